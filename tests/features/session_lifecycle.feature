Feature: Session lifecycle
  A pairwise session goes DORMANT -> INITIATING -> ACTIVE -> CLOSED. Each operation is allowed
  or refused according to the session's state (PROTOCOL.md section 9), and a refused operation
  leaves the session exactly as it was.

  Background:
    Given Alice and Bob each have a new identity
    And Bob has published a bundle with a one-time prekey

  Scenario: A session moves from DORMANT through INITIATING to ACTIVE as the first messages cross
    When Alice starts a session from Bob's bundle
    Then Alice's session with Bob is DORMANT
    When Alice sends "hello" to Bob
    Then Alice's session with Bob is INITIATING
    When Bob receives "hello"
    Then Bob's session with Alice is ACTIVE
    When Bob sends "hi" to Alice
    And Alice receives "hi"
    Then Alice's session with Bob is ACTIVE

  Scenario Outline: In state <state>, "<operation>" is allowed and leaves the session <after>
    Given Alice's session with Bob is <state>, with a reply from Bob in transit
    When Alice tries to <operation>
    Then the call returns DMP_OK
    And Alice's session with Bob is <after>

    Examples: transitions
      | state      | operation         | after      |
      | DORMANT    | encrypt a message | INITIATING |
      | DORMANT    | close the session | CLOSED     |
      | INITIATING | encrypt a message | INITIATING |
      | INITIATING | decrypt the reply | ACTIVE     |
      | INITIATING | close the session | CLOSED     |
      | ACTIVE     | encrypt a message | ACTIVE     |
      | ACTIVE     | decrypt the reply | ACTIVE     |
      | ACTIVE     | close the session | CLOSED     |

    Examples: operations that keep the state
      | state      | operation                | after      |
      | DORMANT    | serialize the session    | DORMANT    |
      | DORMANT    | ask the encrypted length | DORMANT    |
      | DORMANT    | set the limits           | DORMANT    |
      | DORMANT    | set the padding          | DORMANT    |
      | INITIATING | serialize the session    | INITIATING |
      | INITIATING | ask the encrypted length | INITIATING |
      | INITIATING | set the limits           | INITIATING |
      | INITIATING | set the padding          | INITIATING |
      | ACTIVE     | serialize the session    | ACTIVE     |
      | ACTIVE     | ask the encrypted length | ACTIVE     |
      | ACTIVE     | set the limits           | ACTIVE     |
      | ACTIVE     | set the padding          | ACTIVE     |

  Scenario Outline: In state <state>, "<operation>" is refused with <code> and the session stays as it was
    Given Alice's session with Bob is <state>, with a reply from Bob in transit
    When Alice tries to <operation>
    Then the call returns <code>
    And Alice's session with Bob is unchanged
    And Alice's session with Bob is <state>

    Examples: refused by the state
      | state   | operation                | code                |
      | DORMANT | decrypt the reply        | DMP_ERR_WRONG_STATE |
      | CLOSED  | encrypt a message        | DMP_ERR_WRONG_STATE |
      | CLOSED  | decrypt the reply        | DMP_ERR_WRONG_STATE |
      | CLOSED  | close the session        | DMP_ERR_WRONG_STATE |
      | CLOSED  | serialize the session    | DMP_ERR_WRONG_STATE |
      | CLOSED  | ask the encrypted length | DMP_ERR_WRONG_STATE |
      | CLOSED  | set the limits           | DMP_ERR_WRONG_STATE |
      | CLOSED  | set the padding          | DMP_ERR_WRONG_STATE |

    Examples: refused by the message, which does not move the state
      | state      | operation                     | code                       |
      | INITIATING | decrypt a tampered reply      | DMP_ERR_AUTH_FAILED        |
      | ACTIVE     | decrypt a tampered reply      | DMP_ERR_AUTH_FAILED        |
      | INITIATING | decrypt its own first message | DMP_ERR_WRONG_MESSAGE_TYPE |

    Examples: refused for want of room in the caller's buffer
      | state      | operation                                 | code                     |
      | DORMANT    | encrypt into a buffer too small           | DMP_ERR_BUFFER_TOO_SMALL |
      | INITIATING | encrypt into a buffer too small           | DMP_ERR_BUFFER_TOO_SMALL |
      | ACTIVE     | encrypt into a buffer too small           | DMP_ERR_BUFFER_TOO_SMALL |
      | INITIATING | decrypt the reply into a buffer too small | DMP_ERR_BUFFER_TOO_SMALL |
      | ACTIVE     | decrypt the reply into a buffer too small | DMP_ERR_BUFFER_TOO_SMALL |

  Scenario: A responder's session is born ACTIVE and can be closed
    When Alice starts a session from Bob's bundle
    And Alice sends "hello" to Bob
    And Bob receives "hello"
    Then Bob's session with Alice is ACTIVE
    When Bob closes his session with Alice
    Then Bob's session with Alice is CLOSED

  Scenario: A closed session still tells its state, its peer and its id
    Given Alice's session with Bob is ACTIVE, with a reply from Bob in transit
    When Alice closes her session with Bob
    Then Alice's session with Bob is CLOSED
    And Alice's session with Bob still names Bob as its peer and keeps its session id
