Feature: Message exchange
  Two agents exchange messages in both directions over one session. Messages may arrive out of
  order, and the initiator may send before the responder is even running.

  Background:
    Given Alice and Bob each have a new identity

  Scenario: Messages flow in both directions and each is read exactly as sent
    Given Alice and Bob have an active session
    When Alice sends "how are you?" to Bob
    And Bob receives "how are you?"
    And Bob sends "fine, and you?" to Alice
    And Alice receives "fine, and you?"
    And Alice sends "fine too" to Bob
    And Alice sends "see you" to Bob
    And Bob receives "fine too"
    And Bob receives "see you"
    Then Alice's session with Bob is ACTIVE
    And Bob's session with Alice is ACTIVE

  Scenario: Messages that cross in flight are all read
    Given Alice and Bob have an active session
    When Alice sends "ping 1" to Bob
    And Bob sends "pong 1" to Alice
    And Alice sends "ping 2" to Bob
    And Bob sends "pong 2" to Alice
    And Bob receives "ping 2"
    And Alice receives "pong 1"
    And Bob receives "ping 1"
    And Alice receives "pong 2"
    Then Alice's session with Bob is ACTIVE

  Scenario: Messages delivered out of order are all read, each once
    Given Alice and Bob have an active session
    When Alice sends 5 messages to Bob, "m1" to "m5"
    And Bob receives "m4"
    And Bob receives "m1"
    And Bob receives "m5"
    And Bob receives "m3"
    And Bob receives "m2"
    And Bob tries to receive "m3" again
    Then the call returns DMP_ERR_DUPLICATE

  Scenario: Messages delivered out of order across several turns of the ratchet are all read
    Given Alice and Bob have an active session
    When Alice sends "a1" to Bob
    And Alice sends "a2" to Bob
    And Bob receives "a2"
    And Bob sends "b1" to Alice
    And Alice receives "b1"
    And Alice sends "a3" to Bob
    And Bob receives "a3"
    And Bob receives "a1"
    Then Bob's session with Alice is ACTIVE

  Scenario: The initiator sends before the responder exists, and the responder reads in any order
    Given Bob has published a bundle with a one-time prekey
    And Bob goes offline, keeping only his identity record
    When Alice starts a session from Bob's bundle
    And Alice sends "first" to Bob
    And Alice sends "second" to Bob
    Then Alice's session with Bob is INITIATING
    When Bob comes back online
    And Bob receives "second"
    And Bob receives "first"
    Then Bob's session with Alice is ACTIVE
    When Bob tries to receive "first" again
    Then the call returns DMP_ERR_DUPLICATE
    And Bob's session with Alice is unchanged
    When Bob sends "welcome back" to Alice
    And Alice receives "welcome back"
    Then Alice's session with Bob is ACTIVE

  Scenario: The initiator keeps sending first messages until it gets a reply, and any one of them sets up the session
    Given Bob has published a bundle without a one-time prekey
    When Alice starts a session from Bob's bundle
    And Alice sends 3 messages to Bob, "early1" to "early3"
    Then the messages "early1" to "early3" are all first messages of one session
    When Bob receives "early3"
    And Bob receives "early1"
    And Bob receives "early2"
    Then Bob's session with Alice is ACTIVE

  Scenario: A plaintext of the largest size crosses, and one byte more is refused without changing the session
    Given Alice and Bob have an active session
    When Alice tries to send a plaintext of DMP_MAX_PLAINTEXT_LEN + 1 bytes to Bob
    Then the call returns DMP_ERR_TOO_LARGE
    And Alice's session with Bob is unchanged
    When Alice sends a plaintext of DMP_MAX_PLAINTEXT_LEN bytes to Bob, "largest"
    Then Bob receives "largest"
    When Alice sends an empty plaintext to Bob, "empty"
    Then Bob receives "empty"
