Feature: Post-quantum set-up
  Sessions are hybrid (X25519 and ML-KEM-768) by default. A hybrid bundle whose ML-KEM part was
  removed on the way no longer matches its signature, which covers the whole bundle, and is always
  refused; so is a first message stripped of its ML-KEM part (a downgrade); a classical peer is
  accepted only when the caller's policy allows it.

  Scenario: Hybrid is the default for identities, bundles and first messages
    Given Alice and Bob each have a new identity
    Then Bob's identity is of the hybrid suite
    When Bob publishes a bundle without a one-time prekey
    Then Bob's bundle is DMP_HYBRID_BUNDLE_LEN bytes long and carries an ML-KEM prekey
    When Bob publishes a bundle with a one-time prekey
    Then Bob's bundle is DMP_BUNDLE_MAX_LEN bytes long and carries an ML-KEM prekey
    When Alice starts a session from Bob's bundle
    And Alice sends "quantum-safe hello" to Bob
    Then the message "quantum-safe hello" is a first message carrying an ML-KEM ciphertext
    And Bob receives "quantum-safe hello"

  Scenario: An agent is hybrid by default
    Given agents Alice and Bob, each in memory
    Then Bob's agent publishes a bundle of DMP_BUNDLE_MAX_LEN bytes with an ML-KEM prekey

  Scenario Outline: A hybrid bundle <opk> stripped of its ML-KEM part fails its signature under <policy>
    Given Alice and Bob each have a new identity
    And Bob has published a bundle <opk>
    When an attacker strips the ML-KEM part from Bob's bundle
    Then verifying the stripped bundle returns DMP_ERR_BAD_SIGNATURE
    When Alice tries to start a session from the stripped bundle under policy <policy>
    Then the call returns DMP_ERR_BAD_SIGNATURE

    Examples:
      | opk                       | policy                 |
      | without a one-time prekey | DMP_PQ_REQUIRE_HYBRID  |
      | without a one-time prekey | DMP_PQ_ALLOW_CLASSICAL |
      | with a one-time prekey    | DMP_PQ_REQUIRE_HYBRID  |
      | with a one-time prekey    | DMP_PQ_ALLOW_CLASSICAL |

  Scenario: An agent refuses a stripped bundle
    Given agents Alice and Bob, each in memory
    When an attacker strips the ML-KEM part from the bundle of Bob's agent
    And Alice's agent tries to add the stripped bundle
    Then the call returns DMP_ERR_BAD_SIGNATURE

  Scenario Outline: A classical bundle is used only when the initiator's policy allows it (<policy>: <result>)
    Given Alice has a new identity
    And Bob has a new classical identity
    And Bob has published a bundle with a one-time prekey
    When Alice tries to start a session from Bob's bundle under policy <policy>
    Then the call returns <result>

    Examples:
      | policy                 | result              |
      | DMP_PQ_REQUIRE_HYBRID  | DMP_ERR_PQ_REQUIRED |
      | DMP_PQ_ALLOW_CLASSICAL | DMP_OK              |

  Scenario: The default session call requires hybrid
    Given Alice has a new identity
    And Bob has a new classical identity
    And Bob has published a bundle without a one-time prekey
    When Alice tries to start a session from Bob's bundle with the default call
    Then the call returns DMP_ERR_PQ_REQUIRED

  Scenario Outline: A classical first message is accepted only when the responder's policy allows it (<policy>: <result>)
    Given Alice has a new identity
    And Bob has a new classical identity
    And Bob has published a bundle with a one-time prekey
    And Alice has started a session from Bob's bundle under policy DMP_PQ_ALLOW_CLASSICAL
    When Alice sends "classical hello" to Bob
    And Bob tries to accept "classical hello" as a new session under policy <policy>
    Then the call returns <result>
    And Bob's identity is <identity>

    Examples:
      | policy                 | result              | identity  |
      | DMP_PQ_REQUIRE_HYBRID  | DMP_ERR_PQ_REQUIRED | unchanged |
      | DMP_PQ_ALLOW_CLASSICAL | DMP_OK              | changed   |

  Scenario Outline: A first message without its ML-KEM part, to a hybrid signed prekey, is refused as a downgrade under <policy>
    Given Alice and Bob each have a new identity
    And Bob has published a bundle without a one-time prekey
    And Alice has started a session from Bob's bundle
    And Alice has sent "stripped hello" to Bob
    And an attacker has stripped the ML-KEM part from "stripped hello"
    When Bob tries to accept "stripped hello" as a new session under policy <policy>
    Then the call returns DMP_ERR_DOWNGRADE
    And Bob's identity is unchanged

    Examples:
      | policy                 |
      | DMP_PQ_REQUIRE_HYBRID  |
      | DMP_PQ_ALLOW_CLASSICAL |
