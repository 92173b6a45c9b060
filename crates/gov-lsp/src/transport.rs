//! A guard in front of the protocol library: it frames the client's messages itself and
//! passes on only well-formed JSON-RPC.
//!
//! `tower-lsp-server` stops reading its input after the first message it cannot decode
//! (its framed reader ends after an error), so one malformed message would leave the
//! server deaf. Here every frame is checked first: a malformed one is replaced by a
//! request to [`MALFORMED`] with id `null`, which the server answers with the JSON-RPC
//! error (parse error or invalid request) the client should have had.

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower_lsp_server::jsonrpc;

/// The method malformed messages are turned into.
pub const MALFORMED: &str = "gov/malformedMessage";

/// The largest message accepted (bigger ones are skipped and answered with an error).
const MAX_MESSAGE: usize = 256 << 20;

/// The largest header block accepted.
const MAX_HEADER_LINE: usize = 8 << 10;

/// What is wrong with a message, as the `params` of a [`MALFORMED`] request.
fn malformed(kind: &str, detail: impl Into<String>) -> Value {
    json!({ "jsonrpc": "2.0", "id": null, "method": MALFORMED, "params": { "kind": kind, "detail": detail.into() } })
}

/// Checks one message body; `Err` is the request that stands in for it.
fn check(body: &[u8]) -> Result<(), Value> {
    let value: Value = serde_json::from_slice(body).map_err(|e| malformed("parse", e.to_string()))?;
    let is_request = serde_json::from_value::<jsonrpc::Request>(value.clone()).is_ok();
    let is_response = serde_json::from_value::<jsonrpc::Response>(value.clone()).is_ok();
    if value.is_object() && (is_request || is_response) {
        Ok(())
    } else {
        Err(malformed("invalid", "not a JSON-RPC 2.0 request, notification or response"))
    }
}

async fn write_frame<W: AsyncWrite + Unpin>(output: &mut W, body: &[u8]) -> std::io::Result<()> {
    output.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).await?;
    output.write_all(body).await?;
    output.flush().await
}

/// Reads a header line of at most [`MAX_HEADER_LINE`] bytes (longer lines are cut);
/// `None` at the end of the input.
async fn header_line<R: AsyncRead + Unpin>(input: &mut BufReader<R>) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = (&mut *input).take(MAX_HEADER_LINE as u64).read_until(b'\n', &mut line).await?;
    if read == 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned()))
}

/// Copies well-formed messages from `input` to `output` until `input` ends, replacing
/// malformed ones.
pub async fn sanitize<R, W>(input: R, mut output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    loop {
        // Headers: lines up to an empty one; only Content-Length matters.
        let mut length: Option<Result<usize, String>> = None;
        let mut seen_any = false;
        loop {
            let Some(line) = header_line(&mut input).await? else {
                output.shutdown().await?;
                return Ok(());
            };
            if line.is_empty() {
                if seen_any {
                    break;
                }
                continue; // stray blank lines between messages
            }
            seen_any = true;
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                length = Some(
                    value.trim().parse::<usize>().map_err(|e| format!("bad Content-Length `{}`: {e}", value.trim())),
                );
            }
        }
        let length = match length {
            Some(Ok(length)) => length,
            Some(Err(detail)) => {
                write_frame(&mut output, malformed("parse", detail).to_string().as_bytes()).await?;
                continue;
            }
            None => {
                write_frame(
                    &mut output,
                    malformed("parse", "a message without a Content-Length header").to_string().as_bytes(),
                )
                .await?;
                continue;
            }
        };
        if length > MAX_MESSAGE {
            tokio::io::copy(&mut (&mut input).take(length as u64), &mut tokio::io::sink()).await?;
            write_frame(
                &mut output,
                malformed("invalid", format!("a message of {length} bytes is too large")).to_string().as_bytes(),
            )
            .await?;
            continue;
        }
        // Read what arrives rather than allocating what the header claims.
        let mut body = Vec::new();
        (&mut input).take(length as u64).read_to_end(&mut body).await?;
        if body.len() < length {
            output.shutdown().await?;
            return Ok(());
        }
        match check(&body) {
            Ok(()) => write_frame(&mut output, &body).await?,
            Err(standin) => write_frame(&mut output, standin.to_string().as_bytes()).await?,
        }
    }
}

/// The answer to a [`MALFORMED`] request: the error the original message deserved.
pub fn answer(params: &Value) -> jsonrpc::Error {
    let detail = params.get("detail").and_then(Value::as_str).unwrap_or_default().to_owned();
    let base = match params.get("kind").and_then(Value::as_str) {
        Some("parse") => jsonrpc::Error::parse_error(),
        _ => jsonrpc::Error::invalid_request(),
    };
    jsonrpc::Error { message: format!("{}: {detail}", base.message).into(), ..base }
}
