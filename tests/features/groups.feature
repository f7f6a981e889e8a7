Feature: Groups
  A member encrypts a group message once and every member reads the same envelope. Sender keys
  travel inside pairwise sessions. A removed member can neither send to those who removed it nor
  read what they send next, and a member who joins late cannot read what was sent before.

  Scenario: One envelope, encrypted once, is read by every member
    Given a group of Alice, Bob, Carol and Dave whose sender keys have been exchanged
    When Alice sends "hello, everyone" to the group
    Then Bob reads "hello, everyone" from Alice in the group
    And Carol reads "hello, everyone" from Alice in the group
    And Dave reads "hello, everyone" from Alice in the group
    And the envelope of "hello, everyone" is as long as for a group of one member
    When Carol sends "hi from Carol" to the group
    Then Alice reads "hi from Carol" from Carol in the group
    And Bob reads "hi from Carol" from Carol in the group
    And Dave reads "hi from Carol" from Carol in the group

  Scenario: A removed member's messages are refused with DMP_ERR_MEMBER_REMOVED and it cannot read what follows
    Given a group of Alice, Bob and Carol whose sender keys have been exchanged
    When Carol sends "sent before her removal" to the group
    And Alice removes Carol from the group and sends her new sender key to the others
    Then Alice's sender key id is 2
    When Carol sends "am I still in?" to the group
    And Alice tries to read "am I still in?" in the group
    Then the call returns DMP_ERR_MEMBER_REMOVED
    And Alice's group is unchanged
    When Alice tries to read "sent before her removal" in the group
    Then the call returns DMP_ERR_MEMBER_REMOVED
    And Alice's group is unchanged
    When Alice sends "without Carol" to the group
    Then Bob reads "without Carol" from Alice in the group
    When Carol tries to read "without Carol" in the group
    Then the call returns DMP_ERR_UNKNOWN_KEY_ID
    And Carol's group is unchanged

  Scenario: A member who joins late cannot read what was sent before
    Given a group of Alice and Bob whose sender keys have been exchanged
    When Alice sends "before Dave" to the group
    And Bob reads "before Dave" from Alice in the group
    And Alice adds Dave to the group and sends him her sender key
    And Dave tries to read "before Dave" in the group
    Then the call returns DMP_ERR_DUPLICATE
    And Dave's group is unchanged
    When Alice sends "after Dave" to the group
    Then Dave reads "after Dave" from Alice in the group
    And Bob reads "after Dave" from Alice in the group

  Scenario: A stranger's message to the group is refused with DMP_ERR_UNKNOWN_SENDER
    Given a group of Alice and Bob whose sender keys have been exchanged
    And Mallory has a new identity
    When Mallory, who is not a member, sends "let me in" to a group with the same id
    And Alice tries to read "let me in" in the group
    Then the call returns DMP_ERR_UNKNOWN_SENDER
    And Alice's group is unchanged

  Scenario Outline: A group message with <damage> is refused with <code> and the group is unchanged
    Given a group of Alice, Bob and Carol whose sender keys have been exchanged
    When Alice sends "the genuine group message" to the group
    And Bob tries to read "the genuine group message" in the group with <damage>
    Then the call returns <code>
    And Bob's group is unchanged
    And Bob reads "the genuine group message" from Alice in the group

    Examples:
      | damage                            | code                        |
      | a bit flipped in the ciphertext   | DMP_ERR_BAD_SIGNATURE       |
      | a bit flipped in the signature    | DMP_ERR_BAD_SIGNATURE       |
      | a bit flipped in the iteration    | DMP_ERR_BAD_SIGNATURE       |
      | Carol named as the sender         | DMP_ERR_BAD_SIGNATURE       |
      | a stranger named as the sender    | DMP_ERR_UNKNOWN_SENDER      |
      | a later key id                    | DMP_ERR_UNKNOWN_KEY_ID      |
      | the id of another group           | DMP_ERR_WRONG_SESSION       |
      | protocol version 2                | DMP_ERR_UNSUPPORTED_VERSION |
      | the type of a pairwise message    | DMP_ERR_WRONG_MESSAGE_TYPE  |
      | its signature cut off             | DMP_ERR_BAD_ENVELOPE        |

  Scenario: A replayed group message is refused with DMP_ERR_DUPLICATE
    Given a group of Alice and Bob whose sender keys have been exchanged
    When Alice sends "once to the group" to the group
    And Bob reads "once to the group" from Alice in the group
    And Bob tries to read "once to the group" in the group
    Then the call returns DMP_ERR_DUPLICATE
    And Bob's group is unchanged

  Scenario: A group message too far ahead is refused with DMP_ERR_TOO_FAR_AHEAD and the group is unchanged
    Given a group of Alice and Bob whose sender keys have been exchanged
    And Bob accepts forward jumps of at most 3 messages in the group
    When Alice sends 5 messages to the group, "g1" to "g5"
    And Bob tries to read "g5" in the group
    Then the call returns DMP_ERR_TOO_FAR_AHEAD
    And Bob's group is unchanged
    And Bob reads "g4" from Alice in the group
    And Bob reads "g5" from Alice in the group
    And Bob reads "g1" from Alice in the group

  Scenario: A group message read into a buffer too small gets the size needed, names no sender and changes nothing
    Given a group of Alice and Bob whose sender keys have been exchanged
    When Alice sends "twelve bytes" to the group
    And Bob tries to read "twelve bytes" in the group into a buffer of 4 bytes
    Then the call returns DMP_ERR_BUFFER_TOO_SMALL
    And the call said it needs 12 bytes
    And no sender was written
    And Bob's group is unchanged
    And Bob reads "twelve bytes" from Alice in the group

  Scenario: A member's message that arrives before its new sender key waits for it
    Given a group of Alice and Bob whose sender keys have been exchanged
    When Alice rotates her sender key and sends it to Bob, where it is delayed
    And Alice sends "ahead of the key" to the group
    And Bob tries to read "ahead of the key" in the group
    Then the call returns DMP_ERR_UNKNOWN_KEY_ID
    And Bob's group is unchanged
    When the delayed sender key reaches Bob
    Then Bob reads "ahead of the key" from Alice in the group
