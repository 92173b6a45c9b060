//! The inbox page over plain HTTP (the browser test drives it in chromium): what each
//! person sees, answering from a form, and forms from another site refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers

mod common;

use common::{Client, Server, finance, large_payment};

/// A client of the inbox acting as `person` (the local administrator's cookie).
fn as_person(person: &str) -> Client {
    Client::new().header("Cookie", &format!("gov_token={person}"))
}

#[test]
fn a_person_sees_the_escalations_to_their_groups_and_answers_them_from_the_page() {
    let server = Server::start(finance());
    let id = Client::new().post(&server.url("/v1/decide"), large_payment()).json()["id"].as_str().unwrap().to_owned();
    let card = format!("id=\"d-{id}\"");

    let signed_out = Client::new().get(&server.url("/"));
    assert!(signed_out.text.contains("id=\"login\""), "{}", signed_out.text);
    assert!(as_person("fiona").get(&server.url("/")).text.contains(&card));
    let rita = as_person("rita").get(&server.url("/")).text;
    assert!(!rita.contains(&card) && rita.contains("id=\"empty\""), "{rita}");

    // A form from another site is refused.
    let url = server.url(&format!("/inbox/decisions/{id}"));
    let forged = as_person("fiona").header("Origin", "http://evil.example").form(&url, "verdict=reject");
    assert_eq!(forged.status, 303);
    assert!(forged.location.contains("error="), "{}", forged.location);
    assert_eq!(Client::new().get(&server.url(&format!("/v1/decisions/{id}"))).json()["status"], "pending");

    // fiona rejects from the page, with a comment.
    let answered = as_person("fiona")
        .header("Origin", &format!("http://{}", server.addr))
        .form(&url, "verdict=reject&comment=mule+account");
    assert_eq!((answered.status, answered.location.as_str()), (303, "/"));
    let view = Client::new().get(&server.url(&format!("/v1/decisions/{id}"))).json();
    assert_eq!(view["status"], "rejected");
    assert_eq!(view["approvals"][0]["person"], "fiona");
    assert_eq!(view["approvals"][0]["comment"], "mule account");

    // The history finds it by requester, and not by another.
    let found = as_person("fiona").get(&server.url("/?q=treasury-bot")).text;
    assert!(found.contains(&format!("id=\"row-{id}\"")), "{found}");
    let other = as_person("fiona").get(&server.url("/?q=pay-bot")).text;
    assert!(!other.contains(&format!("id=\"row-{id}\"")), "{other}");
}
