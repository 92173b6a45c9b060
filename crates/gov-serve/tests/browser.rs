//! The inbox page in a real headless browser: Debian's chromium driven over WebDriver
//! (chromedriver, through fantoccini). An approver signs in with a token, sees the
//! escalation, approves it with a comment, and the decision changes to allow.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them when missing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers

mod common;

use common::{Client, Server, finance, large_payment, scratch};
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::process::{Child, Command, Stdio};

/// chromedriver, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start chromedriver ({e}): install Debian's `chromium` and `chromium-driver` packages")
            });
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        // Wait (at most 30 s) until it answers.
        for _ in 0..300 {
            if ureq::get(&status).call().is_ok() {
                return Driver { child, url };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not start");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_approver_signs_in_approves_an_escalation_in_the_page_and_the_decision_changes() {
    let dir = scratch("browser");
    let entries = [("uma", "approve"), ("victor", "approve"), ("fiona", "approve"), ("treasury-bot", "decide")];
    let tokens: Vec<serde_json::Value> = entries
        .iter()
        .map(|(name, scope)| {
            let hash: String =
                Sha256::digest(format!("tok-{name}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            json!({ "name": name, "sha256": hash, "scopes": [scope] })
        })
        .collect();
    std::fs::write(dir.join("tokens.json"), json!({ "tokens": tokens }).to_string()).unwrap();
    let mut config = finance();
    config.tokens = Some(dir.join("tokens.json"));
    let server = Server::start(config);

    // The agent asks; treasury's two approvals come over the API; the fraud desk is left.
    let id = Client::token("tok-treasury-bot").post(&server.url("/v1/decide"), large_payment()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for person in ["uma", "victor"] {
        let answer = Client::token(&format!("tok-{person}"))
            .post(&server.url(&format!("/v1/decisions/{id}/approvals")), json!({ "verdict": "approve" }).to_string());
        assert_eq!(answer.status, 200, "{}", answer.text);
    }

    let driver = Driver::start();
    let profile = dir.join("chromium-profile");
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,1600",
                     format!("--user-data-dir={}", profile.display())],
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let page = server.url("/");
    let shot = dir.join("inbox.png");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (row, error) = runtime.block_on(async {
        let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a chromium session");
        let steps = async {
            browser.goto(&page).await?;
            // A wrong token is refused on the page.
            browser.find(Locator::Id("token")).await?.send_keys("tok-wrong").await?;
            browser.find(Locator::Id("login")).await?.click().await?;
            let error = browser.wait().for_element(Locator::Id("error")).await?.text().await?;
            browser.find(Locator::Id("token")).await?.send_keys("tok-fiona").await?;
            browser.find(Locator::Id("login")).await?.click().await?;
            let person = browser.wait().for_element(Locator::Id("person")).await?.text().await?;
            assert_eq!(person, "fiona");
            let card = browser.find(Locator::Id(&format!("d-{id}"))).await?.text().await?;
            assert!(card.contains("risk 70 needs a fraud review"), "{card}");
            assert!(card.contains("uma approved for treasury"), "{card}");
            browser
                .find(Locator::Id(&format!("comment-{id}")))
                .await?
                .send_keys("checked with the beneficiary's bank")
                .await?;
            std::fs::write(&shot, browser.screenshot().await?).unwrap();
            browser.find(Locator::Id(&format!("approve-{id}"))).await?.click().await?;
            browser.wait().for_element(Locator::Id("empty")).await?;
            let row = browser.find(Locator::Id(&format!("row-{id}"))).await?.text().await?;
            Ok::<_, fantoccini::error::CmdError>((row, error))
        }
        .await;
        let _ = browser.close().await;
        steps.expect("the browser steps")
    });
    assert_eq!(error, "unknown token");
    assert!(row.contains("allow") && row.contains("resolved"), "{row}");

    let view = Client::token("tok-treasury-bot").get(&server.url(&format!("/v1/decisions/{id}"))).json();
    assert_eq!(view["outcome"], "allow");
    assert_eq!(view["approvals"][2]["person"], "fiona");
    assert_eq!(view["approvals"][2]["comment"], "checked with the beneficiary's bank");
}
