#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! HTTPS (`--tls-cert`, `--tls-key`): a client that trusts the service's certificate gets
//! a decision over TLS; plain HTTP to the TLS port gets no answer; a file without a
//! certificate is refused at start; without tokens, TLS does not open other addresses.

mod common;

use common::{Server, finance, root, scratch};
use std::path::PathBuf;
use std::sync::Arc;

/// A self-signed certificate for 127.0.0.1 and its key, as PEM files in `dir`; and the
/// certificate itself, for the client to trust.
fn certificate(dir: &std::path::Path) -> (PathBuf, PathBuf, ureq::tls::Certificate<'static>) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, signing_key.serialize_pem()).unwrap();
    (cert_file, key_file, ureq::tls::Certificate::from_der(cert.der()).to_owned())
}

/// An agent that trusts only `trusted`, and reads error statuses as answers.
fn agent(trusted: ureq::tls::Certificate<'static>) -> ureq::Agent {
    let tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![trusted]))).build();
    ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).build().into()
}

#[test]
fn a_client_trusting_the_certificate_gets_a_decision_over_https_and_plain_http_fails() {
    let dir = scratch("tls-decide");
    let (cert, key, trusted) = certificate(&dir);
    let mut config = finance();
    config.tls = Some((cert, key));
    let server = Server::start(config);
    let request = std::fs::read_to_string(root().join("examples/finance/requests/routine_payment.json")).unwrap();

    let url = format!("https://{}/v1/decide", server.addr);
    let mut answer = agent(trusted).post(&url).content_type("application/json").send(request.as_str()).unwrap();
    assert_eq!(answer.status(), 200);
    let json: serde_json::Value = serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(json["decision"], "allow", "{json}");
    assert_eq!(json["status"], "decided", "{json}");

    // Plain HTTP to the TLS port: the handshake fails and the connection is dropped.
    let plain = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let refused = plain.get(&format!("http://{}/health", server.addr)).call();
    assert!(refused.is_err(), "plain HTTP was answered: {:?}", refused.map(|r| r.status()));

    // A client that does not trust the certificate is refused by its own TLS check.
    let (_, _, other) = certificate(&scratch("tls-other"));
    let untrusted = agent(other).get(&format!("https://{}/health", server.addr)).call();
    assert!(untrusted.is_err(), "an untrusted certificate was accepted");
    server.stop().unwrap();
}

#[test]
fn a_certificate_file_without_a_certificate_is_refused_at_start() {
    let dir = scratch("tls-bad");
    let (_, key, _) = certificate(&dir);
    let mut config = finance();
    config.tls = Some((key.clone(), key));
    let error = Server::try_start(config).err().expect("started without a certificate");
    assert!(error.contains("--tls-cert") && error.contains("key.pem"), "{error}");
}

#[test]
fn with_tls_but_without_tokens_only_loopback_addresses_are_served() {
    let dir = scratch("tls-open");
    let (cert, key, _) = certificate(&dir);
    let mut config = finance();
    config.tls = Some((cert, key));
    config.addr = "0.0.0.0:0".parse().unwrap();
    let error = Server::try_start(config).err().expect("listened on every address without tokens");
    assert!(error.contains("without --tokens"), "{error}");
}
