Feature: Refused input
  Every refusal has its own stable DMP_ERR_* code, and a refused input never changes the
  session: the genuine message still decrypts afterwards.

  Background:
    Given Alice and Bob each have a new identity

  Scenario Outline: A message with <damage> is refused with <code> and the session is unchanged
    Given Alice and Bob have an active session
    And Alice has sent "the genuine message" to Bob
    When Bob tries to receive "the genuine message" with <damage>
    Then the call returns <code>
    And Bob's session with Alice is unchanged
    And Bob receives "the genuine message"

    Examples: tampering
      | damage                                   | code                        |
      | a bit flipped in the ciphertext          | DMP_ERR_AUTH_FAILED         |
      | a bit flipped in the authentication tag  | DMP_ERR_AUTH_FAILED         |
      | a bit flipped in the message number      | DMP_ERR_AUTH_FAILED         |
      | a bit flipped in the previous chain length | DMP_ERR_AUTH_FAILED       |
      | a bit flipped in the ratchet key         | DMP_ERR_AUTH_FAILED         |
      | a ratchet key of small order             | DMP_ERR_WEAK_KEY            |
      | the session id of another session        | DMP_ERR_WRONG_SESSION       |

    Examples: malformed
      | damage                                   | code                        |
      | its last byte cut off                    | DMP_ERR_AUTH_FAILED         |
      | only its header left                     | DMP_ERR_BAD_ENVELOPE        |
      | an overlong message number               | DMP_ERR_BAD_ENVELOPE        |
      | nothing left                             | DMP_ERR_BAD_ENVELOPE        |
      | protocol version 2                       | DMP_ERR_UNSUPPORTED_VERSION |
      | an unknown type                          | DMP_ERR_BAD_ENVELOPE        |
      | the type of a prekey bundle              | DMP_ERR_WRONG_MESSAGE_TYPE  |
      | the type of a group message              | DMP_ERR_WRONG_MESSAGE_TYPE  |
      | a length over DMP_MAX_ENVELOPE_LEN       | DMP_ERR_TOO_LARGE           |

  Scenario Outline: A replayed message is refused and the session is unchanged (replayed <when>)
    Given Alice and Bob have an active session
    And Alice has sent "only once" to Bob
    And Bob has received "only once"
    And <turns> more round trips have passed between Alice and Bob
    When Bob tries to receive "only once" again
    Then the call returns DMP_ERR_DUPLICATE
    And Bob's session with Alice is unchanged
    When Alice sends "and then" to Bob
    Then Bob receives "and then"

    Examples:
      | when                        | turns |
      | at once                     | 0     |
      | after the ratchet turned    | 3     |

  Scenario: A message too far ahead is refused and the session is unchanged
    Given Alice and Bob have an active session
    And Bob accepts forward jumps of at most 5 messages from Alice
    When Alice sends 7 messages to Bob, "m1" to "m7"
    And Bob tries to receive "m7"
    Then the call returns DMP_ERR_TOO_FAR_AHEAD
    And Bob's session with Alice is unchanged
    When Bob receives "m6"
    And Bob receives "m7"
    And Bob receives "m1"
    And Bob receives "m5"
    Then Bob's session with Alice is ACTIVE

  Scenario Outline: A <state> session refuses to <operation> with DMP_ERR_WRONG_STATE and stays as it was
    Given Alice's session with Bob is <state>, with a reply from Bob in transit
    When Alice tries to <operation>
    Then the call returns DMP_ERR_WRONG_STATE
    And Alice's session with Bob is unchanged
    And Alice's session with Bob is <state>

    Examples:
      | state   | operation         |
      | DORMANT | decrypt the reply |
      | CLOSED  | decrypt the reply |
      | CLOSED  | encrypt a message |

  Scenario Outline: A saved <what> does not open under another storage key, and opens unchanged under its own
    Given Alice and Bob have an active session
    And a group of Alice and Bob whose sender keys have been exchanged
    When Bob saves his <what> with storage key "K1"
    And Bob tries to restore his <what> with storage key "K2"
    Then the call returns DMP_ERR_WRONG_STORAGE_KEY
    When Bob tries to restore his <what> with storage key "K1"
    Then the call returns DMP_OK
    And Bob's restored <what> holds the same state as the saved one

    Examples:
      | what     |
      | session  |
      | identity |
      | group    |

  Scenario: A restored session carries on the conversation
    Given Alice and Bob have an active session
    When Bob saves his session with storage key "K1"
    And Bob tries to restore his session with storage key "K1"
    Then the call returns DMP_OK
    When Alice sends "still there?" to Bob
    Then Bob receives "still there?"
    When Bob sends "still here" to Alice
    Then Alice receives "still here"

  Scenario: A buffer too small for the plaintext gets the size needed, and the message can be read again
    Given Alice and Bob have an active session
    And Alice has sent "thirty-two bytes of plaintext..." to Bob
    When Bob tries to receive "thirty-two bytes of plaintext..." into a buffer of 4 bytes
    Then the call returns DMP_ERR_BUFFER_TOO_SMALL
    And the call said it needs 32 bytes
    And Bob's session with Alice is unchanged
    And Bob receives "thirty-two bytes of plaintext..."
