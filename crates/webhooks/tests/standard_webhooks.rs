//! Every Standard Webhooks vector (`tests/vectors/standard-webhooks.json`, built from the
//! reference libraries' own tests) through Switchboard's signer and verifier.

use serde_json::Value;
use switchboard_webhooks::{Delivery, Headers, Scheme, standard_signature, verify};

fn vectors() -> Vec<Value> {
    let text = include_str!("vectors/standard-webhooks.json");
    let all: Value = serde_json::from_str(text).expect("the vector file is JSON");
    all["vectors"].as_array().expect("a vectors list").clone()
}

fn s<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

#[test]
fn every_standard_webhooks_vector_gives_the_expected_answer() {
    let vectors = vectors();
    assert_eq!(
        vectors.len(),
        34,
        "the vector file should hold all 34 cases"
    );
    let mut ran = std::collections::BTreeMap::<String, usize>::new();
    for v in &vectors {
        let id = s(v, "id").expect("id");
        let kind = s(v, "kind").expect("kind");
        let secret = s(v, "secret").expect("secret");
        let expect_valid = v["expect_valid"].as_bool().expect("expect_valid");
        *ran.entry(kind.to_string()).or_default() += 1;
        match kind {
            "sign" => {
                let got = standard_signature(
                    secret,
                    s(v, "msg_id").expect("msg_id"),
                    s(v, "timestamp").expect("timestamp"),
                    s(v, "payload").expect("payload").as_bytes(),
                );
                assert_eq!(
                    got.ok().as_deref(),
                    s(v, "expected_signature"),
                    "{id}: signing must give exactly the published signature"
                );
            }
            "sign_error" => {
                let got = standard_signature(
                    secret,
                    s(v, "msg_id").expect("msg_id"),
                    s(v, "timestamp").expect("timestamp"),
                    b"{}",
                );
                assert!(
                    got.is_err(),
                    "{id}: signing with timestamp {:?} must be refused",
                    s(v, "timestamp")
                );
            }
            "secret_error" => {
                let h = Headers::from_iter([
                    ("webhook-id", "msg_1"),
                    ("webhook-timestamp", "1"),
                    ("webhook-signature", "v1,AAAA"),
                ]);
                let got = verify(
                    Scheme::StandardWebhooks,
                    &Delivery {
                        method: "POST",
                        uri: "/",
                        headers: &h,
                        body: b"",
                    },
                    secret,
                    1000,
                );
                assert_eq!(
                    got.map_err(|e| e.reason()),
                    Err("bad_secret"),
                    "{id}: the secret {secret:?} must be refused as unusable"
                );
            }
            "verify" => {
                let mut h = Headers::new();
                for (name, field) in [
                    ("webhook-id", "msg_id"),
                    ("webhook-timestamp", "timestamp"),
                    ("webhook-signature", "expected_signature"),
                ] {
                    if let Some(value) = s(v, field) {
                        h.insert(name, value);
                    }
                }
                let now_ms = v["verify_at"].as_i64().expect("verify_at") * 1000;
                let body = s(v, "payload").expect("payload").as_bytes();
                let got = verify(
                    Scheme::StandardWebhooks,
                    &Delivery {
                        method: "POST",
                        uri: "/",
                        headers: &h,
                        body,
                    },
                    secret,
                    now_ms,
                );
                assert_eq!(
                    got.is_ok(),
                    expect_valid,
                    "{id}: expected {} but got {got:?} ({})",
                    if expect_valid { "valid" } else { "a refusal" },
                    s(v, "note").unwrap_or("")
                );
            }
            other => panic!("{id}: unknown vector kind {other}"),
        }
    }
    let counts: Vec<(String, usize)> = ran.into_iter().collect();
    assert_eq!(
        counts,
        vec![
            ("secret_error".into(), 2),
            ("sign".into(), 2),
            ("sign_error".into(), 3),
            ("verify".into(), 27)
        ],
        "every kind of vector should have run"
    );
}

#[test]
fn the_specs_header_example_parses_as_a_signature_list() {
    // The spec's header example has no published key: with any key it is a well-formed list
    // whose v1 entry does not match (forged), and its v1a (ed25519) entry is skipped.
    let all: Value =
        serde_json::from_str(include_str!("vectors/standard-webhooks.json")).expect("json");
    let ex = &all["format_examples"][0];
    let h = Headers::from_iter([
        ("webhook-id", s(ex, "msg_id").expect("id")),
        ("webhook-timestamp", s(ex, "timestamp").expect("ts")),
        ("webhook-signature", s(ex, "signature_header").expect("sig")),
    ]);
    let now = ex["timestamp"]
        .as_str()
        .and_then(|t| t.parse::<i64>().ok())
        .expect("ts")
        * 1000;
    let got = verify(
        Scheme::StandardWebhooks,
        &Delivery {
            method: "POST",
            uri: "/",
            headers: &h,
            body: s(ex, "payload").expect("payload").as_bytes(),
        },
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        now,
    );
    assert_eq!(got.map_err(|e| e.reason()), Err("forged"));
}
