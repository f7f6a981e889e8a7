Feature: Key management
  Signed prekeys rotate and the previous one keeps working until the next rotation; one-time
  prekeys set up one session only; an identity made from a seed has the same agent id every time
  and nothing else; group members rotate their sender keys.

  Scenario Outline: A first message to a bundle whose signed prekey was rotated <rotations> times since is <outcome>
    Given Alice and Bob each have a new identity
    And Bob has published a bundle without a one-time prekey
    And Bob has rotated his signed prekey <rotations> times
    When Alice starts a session from Bob's bundle
    And Alice sends "hello" to Bob
    And Bob tries to accept "hello" as a new session
    Then the call returns <result>

    Examples:
      | rotations | result                 | outcome                                   |
      | 0         | DMP_OK                 | accepted (the current signed prekey)      |
      | 1         | DMP_OK                 | accepted (the previous signed prekey)     |
      | 2         | DMP_ERR_UNKNOWN_PREKEY | refused (its signed prekey was erased)    |
      | 3         | DMP_ERR_UNKNOWN_PREKEY | refused (its signed prekey was erased)    |

  Scenario: Rotation makes a fresh signed prekey current and new bundles carry it
    Given Bob has a new identity
    When Bob rotates his signed prekey
    Then a bundle Bob publishes now names his current signed prekey

  Scenario: A one-time prekey sets up one session only
    Given Alice, Bob and Carol each have a new identity
    And Bob holds 0 one-time prekeys
    And Bob has published a bundle with a one-time prekey
    Then Bob holds 1 one-time prekey
    When Alice starts a session from Bob's bundle
    And Carol starts a session from Bob's bundle
    And Alice sends "from Alice" to Bob
    And Carol sends "from Carol" to Bob
    And Bob receives "from Alice"
    Then Bob holds 0 one-time prekeys
    When Bob tries to accept "from Carol" as a new session
    Then the call returns DMP_ERR_UNKNOWN_PREKEY
    And Bob's identity is unchanged
    When Bob tries to accept "from Alice" as a new session
    Then the call returns DMP_ERR_UNKNOWN_PREKEY
    And Bob's identity is unchanged

  Scenario: A first message read into a buffer too small creates no session and uses up no one-time prekey
    Given Alice and Bob each have a new identity
    And Bob has published a bundle with a one-time prekey
    When Alice starts a session from Bob's bundle
    And Alice sends "a first message of some length" to Bob
    And Bob tries to accept "a first message of some length" into a buffer of 8 bytes
    Then the call returns DMP_ERR_BUFFER_TOO_SMALL
    And the call said it needs 30 bytes
    And Bob's identity is unchanged
    And Bob holds 1 one-time prekey
    When Bob receives "a first message of some length"
    Then Bob holds 0 one-time prekeys

  Scenario: Every bundle published with a one-time prekey hands out a different one
    Given Bob has a new identity
    When Bob publishes 3 bundles with a one-time prekey
    Then those bundles carry 3 consecutive one-time prekeys, each once
    And Bob holds 3 one-time prekeys

  Scenario Outline: An identity made from a seed has the same agent id every time, and fresh prekeys (<suite>)
    Given Alice is made from a seed of 32 bytes 0x07 as a <suite> identity
    And Eve is made from a seed of 32 bytes 0x07 as a <suite> identity
    And Mallory is made from a seed of 32 bytes 0x08 as a <suite> identity
    Then Alice and Eve have the same agent id
    And Alice and Eve have the same fingerprint
    And Alice and Eve publish bundles that share no prekey
    And Alice and Mallory have different agent ids

    Examples:
      | suite     |
      | hybrid    |
      | classical |

  Scenario: A first message built from the bundle of a lost seeded identity is refused by its successor
    Given Alice has a new identity
    And Bob is made from a seed of 32 bytes 0x2a as a hybrid identity
    And Bob has published a bundle without a one-time prekey
    And Bob is lost, and a new Bob is made from a seed of 32 bytes 0x2a as a hybrid identity
    When Alice starts a session from Bob's bundle
    And Alice sends "do you remember me?" to Bob
    And Bob tries to accept "do you remember me?" as a new session
    Then the call returns DMP_ERR_UNKNOWN_PREKEY

  Scenario: A rotated sender key takes over and the replaced one stays readable within its grace window
    Given a group of Alice, Bob and Carol whose sender keys have been exchanged
    Then Alice's sender key id is 1
    When Alice sends "old 1" to the group
    And Alice sends "old 2" to the group
    And Alice rotates her sender key and sends it to the others
    Then Alice's sender key id is 2
    When Alice sends "new 1" to the group
    Then Bob reads "new 1" from Alice in the group
    And Carol reads "new 1" from Alice in the group
    And Bob reads "old 1" from Alice in the group
    And Carol reads "old 2" from Alice in the group

  Scenario Outline: A message under a replaced sender key is <outcome> after <count> messages under the new key
    Given a group of Alice and Bob whose sender keys have been exchanged
    When Alice sends "under the old key" to the group
    And Alice rotates her sender key and sends it to the others
    And Alice sends <count> messages to the group and Bob reads them all
    And Bob tries to read "under the old key" in the group
    Then the call returns <result>

    Examples:
      | count | result                 | outcome                              |
      | 99    | DMP_OK                 | still read (within the grace window) |
      | 100   | DMP_ERR_SUPERSEDED_KEY | refused (the grace window is over)   |
