Feature: The agent
  An agent is one identity with many peers and groups, persisted in a store that survives
  restarts. Only one handle may hold a store open, and only its storage key opens it.

  Scenario: One agent talks to many peers, each over its own session
    Given agents Alice, Bob, Carol and Dave, each in memory
    And Alice's agent knows the bundles of Bob, Carol and Dave
    When Alice's agent sends "hi Bob" to Bob
    And Alice's agent sends "hi Carol" to Carol
    And Alice's agent sends "hi Dave" to Dave
    Then Bob's agent receives "hi Bob" from Alice
    And Carol's agent receives "hi Carol" from Alice
    And Dave's agent receives "hi Dave" from Alice
    When Dave's agent sends "hello Alice, from Dave" to Alice
    And Bob's agent sends "hello Alice, from Bob" to Alice
    And Carol's agent sends "hello Alice, from Carol" to Alice
    Then Alice's agent receives "hello Alice, from Carol" from Carol
    And Alice's agent receives "hello Alice, from Bob" from Bob
    And Alice's agent receives "hello Alice, from Dave" from Dave
    And Alice's agent lists Bob, Carol and Dave as its peers
    And Alice's agent session with Bob is ACTIVE
    And Alice's agent session with Carol is ACTIVE
    And Alice's agent session with Dave is ACTIVE

  Scenario: An agent without a session or a bundle of the peer cannot send to it
    Given agents Alice and Bob, each in memory
    When Alice's agent tries to send "hello?" to Bob
    Then the call returns DMP_ERR_NO_SESSION

  Scenario: An agent asked to send into a buffer too small starts no session
    Given agents Alice and Bob, each in memory
    And Alice's agent knows the bundles of Bob
    When Alice's agent tries to send "hello" to Bob into a buffer of 10 bytes
    Then the call returns DMP_ERR_BUFFER_TOO_SMALL
    And Alice's agent has no session with Bob
    And Alice's agent has no peers
    When Alice's agent sends "hello" to Bob
    Then Bob's agent receives "hello" from Alice

  Scenario Outline: Two agents that start sessions with each other at the same time converge on one (Alice's id is <order>)
    Given agents Alice and Bob made from the seeds <alice_seed> and <bob_seed>, each in memory
    And Alice's agent id is <order> than Bob's
    And Alice's agent knows the bundles of Bob
    And Bob's agent knows the bundles of Alice
    When Alice's agent sends "hello from Alice" to Bob
    And Bob's agent sends "hello from Bob" to Alice
    Then Bob's agent receives "hello from Alice" from Alice
    And Alice's agent receives "hello from Bob" from Bob
    And the next messages of Alice's and Bob's agents carry the same session id
    When Alice's agent sends "still one session?" to Bob
    Then Bob's agent receives "still one session?" from Alice
    When Bob's agent sends "yes, one session" to Alice
    Then Alice's agent receives "yes, one session" from Bob
    And Alice's agent session with Bob is ACTIVE
    And Bob's agent session with Alice is ACTIVE

    Examples:
      | order  | alice_seed | bob_seed |
      | lower  | 0x02       | 0x01     |
      | higher | 0x01       | 0x02     |

  Scenario: An agent restarted from its store continues the conversation
    Given agents Alice and Bob, each with its own store
    And Alice's agent knows the bundles of Bob
    When Alice's agent sends "before the restart" to Bob
    And Bob's agent receives "before the restart" from Alice
    And Bob's agent sends "while you were away" to Alice
    And Alice's agent is closed
    And Alice's agent opens her store with the right storage key
    Then Alice's agent has the same agent id as before
    And Alice's agent session with Bob is INITIATING
    And Alice's agent receives "while you were away" from Bob
    When Alice's agent sends "after the restart" to Bob
    Then Bob's agent receives "after the restart" from Alice
    And Alice's agent session with Bob is ACTIVE
    When Alice's agent tries to receive "while you were away" again
    Then the call returns DMP_ERR_DUPLICATE

  Scenario: A restarted agent still refuses a message it read before the restart
    Given agents Alice and Bob, each with its own store
    And Alice's agent knows the bundles of Bob
    When Alice's agent sends "read once" to Bob
    And Bob's agent receives "read once" from Alice
    And Bob's agent is closed
    And Bob's agent opens his store with the right storage key
    And Bob's agent tries to receive "read once" again
    Then the call returns DMP_ERR_DUPLICATE

  Scenario: A store open in one handle cannot be opened by a second one until the first closes
    Given agents Alice and Bob, each with its own store
    When Alice tries to open her store a second time with the right storage key
    Then the call returns DMP_ERR_STORE_LOCKED
    When Alice's agent is closed
    And Alice tries to open her store a second time with the right storage key
    Then the call returns DMP_OK

  Scenario: A store does not open under a wrong storage key, and still opens under the right one
    Given agents Alice and Bob, each with its own store
    And Alice's agent knows the bundles of Bob
    When Alice's agent sends "remember this" to Bob
    And Bob's agent receives "remember this" from Alice
    And Bob's agent sends "I will" to Alice
    And Alice's agent is closed
    And Alice tries to open her store a second time with a wrong storage key
    Then the call returns DMP_ERR_WRONG_STORAGE_KEY
    When Alice's agent opens her store with the right storage key
    Then Alice's agent has the same agent id as before
    And Alice's agent receives "I will" from Bob

  Scenario Outline: A message meant for another agent is refused with <code> (<when>)
    Given agents Alice, Bob and Carol, each in memory
    And Alice's agent knows the bundles of Bob
    And <exchanged> messages have been exchanged between Alice's and Bob's agents
    When Alice's agent sends "for Bob only" to Bob
    And Carol's agent tries to receive "for Bob only"
    Then the call returns <code>
    And Carol's agent has no peers
    And Bob's agent receives "for Bob only" from Alice

    Examples:
      | when                                              | exchanged | code                   |
      | a first message (Carol holds none of its prekeys) | 0         | DMP_ERR_UNKNOWN_PREKEY |
      | on an established session                         | 2         | DMP_ERR_WRONG_SESSION  |

  Scenario: An agent's upkeep rotates its signed prekey weekly, and a bundle published before works until the next rotation
    Given agents Alice, Bob and Carol, each in memory
    And Bob's agent has published a bundle naming its first signed prekey
    When Bob's agent does its upkeep 6 days after the agents were created
    Then a bundle of Bob's agent names signed prekey #1
    When Bob's agent does its upkeep 7 days after the agents were created
    Then a bundle of Bob's agent names signed prekey #2
    When Alice's agent adds Bob's earlier bundle
    And Alice's agent sends "on the previous signed prekey" to Bob
    Then Bob's agent receives "on the previous signed prekey" from Alice
    When Bob's agent does its upkeep 14 days after the agents were created
    Then a bundle of Bob's agent names signed prekey #3
    When Carol's agent adds Bob's earlier bundle
    And Carol's agent sends "on an erased signed prekey" to Bob
    And Bob's agent tries to receive "on an erased signed prekey"
    Then the call returns DMP_ERR_UNKNOWN_PREKEY

  Scenario: An agent connects to a peer without a message
    Given agents Alice and Bob, each in memory
    And Alice's agent knows the bundles of Bob
    When Alice's agent connects to Bob
    Then Bob's agent reports that Alice established a session
    When Bob's agent sends "you called?" to Alice
    Then Alice's agent receives "you called?" from Bob

  Scenario: An agent refuses a replayed or tampered envelope and nothing changes
    Given agents Alice and Bob, each in memory
    And Alice's agent knows the bundles of Bob
    When Alice's agent sends "first contact" to Bob
    And Bob's agent tries to receive "first contact" with a bit flipped in the ciphertext
    Then the call returns DMP_ERR_AUTH_FAILED
    And Bob's agent has no peers
    When Bob's agent receives "first contact" from Alice
    And Bob's agent tries to receive "first contact" again
    Then the call returns DMP_ERR_DUPLICATE
    When Alice's agent sends "second contact" to Bob
    Then Bob's agent receives "second contact" from Alice

  Scenario: An agent's group: one envelope for all, and a removed member is refused
    Given agents Alice, Bob and Carol, each in memory
    And Alice's agent knows the bundles of Bob and Carol
    When Alice's agent creates a group with Bob and Carol and delivers its outbox
    And Alice's agent sends "hello group" to the group
    Then Bob's agent receives "hello group" from Alice in the group
    And Carol's agent receives "hello group" from Alice in the group
    When Alice's agent removes Carol from the group and delivers its outbox
    And Carol's agent sends "can you hear me?" to the group
    And Alice's agent tries to receive "can you hear me?"
    Then the call returns DMP_ERR_MEMBER_REMOVED
    When Alice's agent sends "just us now" to the group
    Then Bob's agent receives "just us now" from Alice in the group
    When Carol's agent tries to receive "just us now"
    Then the call returns DMP_ERR_UNKNOWN_KEY_ID

  Scenario: An agent invited into a group learns who invited it, and can leave the group
    Given agents Alice and Bob, each in memory
    And Alice's agent knows the bundles of Bob
    When Alice's agent creates a group with Bob and delivers its outbox
    Then Bob's agent was invited into the group by Alice, and nobody else was invited
    When Bob's agent leaves the group
    And Alice's agent sends "are you there?" to the group
    And Bob's agent tries to receive "are you there?"
    Then the call returns DMP_ERR_WRONG_SESSION
