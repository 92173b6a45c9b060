//! A guard in front of the protocol library: it frames the client's messages itself and
//! passes on only well-formed JSON-RPC.
//!
//! `tower-lsp-server` stops reading its input after the first message it cannot decode
//! (its framed reader ends after an error), so one malformed message would leave the
//! server deaf. Here every frame is checked first: a malformed one is replaced by a
//! request to [`MALFORMED`] with id `null`, which the server answers with the JSON-RPC
//! error (parse error or invalid request) the client should have had.
//!
//! A `Content-Length` that does not fit its message costs that message only. Too long, and
//! the body would swallow the next message: while reading a body, `Content-Length:` outside
//! any JSON string (which no JSON text holds) marks where the next message begins, and
//! reading resumes there. Too short, and the body's unread end comes before the next
//! header on the same line: the header is found after it.

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

/// The header that starts every message, lowercased.
const CONTENT_LENGTH: &[u8] = b"content-length:";

/// Watches a body for the start of the next message, in case its `Content-Length` claimed
/// more than the message holds: `Content-Length:` outside any JSON string, which no JSON
/// text contains.
#[derive(Debug, Default)]
struct Lookout {
    in_string: bool,
    escaped: bool,
    /// How many bytes of [`CONTENT_LENGTH`] the bytes so far end with.
    matched: usize,
}

impl Lookout {
    /// Reads `bytes` on; returns the offset just past the header name if it completes here.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, byte) in bytes.iter().map(u8::to_ascii_lowercase).enumerate() {
            if self.in_string {
                match (self.escaped, byte) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
            } else if byte == b'"' {
                self.in_string = true;
                self.matched = 0;
            } else if CONTENT_LENGTH.get(self.matched) == Some(&byte) {
                self.matched += 1;
                if self.matched == CONTENT_LENGTH.len() {
                    return Some(i + 1);
                }
            } else {
                self.matched = usize::from(CONTENT_LENGTH.first() == Some(&byte));
            }
        }
        None
    }
}

/// The client's byte stream, with the start of a header line that a body ran into.
struct Input<R> {
    reader: BufReader<R>,
    /// Bytes read as part of a body that turned out to begin the next header.
    carry: Vec<u8>,
}

/// A message body as read.
enum Body {
    /// All the bytes the header promised (empty if they were too many to keep).
    Whole(Vec<u8>),
    /// The next message's header began before the promised length was reached.
    Overrun,
    /// The input ended first.
    Ended,
}

impl<R: AsyncRead + Unpin> Input<R> {
    /// Reads a header line of at most [`MAX_HEADER_LINE`] bytes (longer lines are cut);
    /// `None` at the end of the input.
    async fn header_line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = std::mem::take(&mut self.carry);
        let read = (&mut self.reader).take(MAX_HEADER_LINE as u64).read_until(b'\n', &mut line).await?;
        if read == 0 && line.is_empty() {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned()))
    }

    /// Reads a body of `length` bytes, keeping them only up to [`MAX_MESSAGE`], and stops
    /// early where the next message's header begins.
    async fn body(&mut self, length: usize) -> std::io::Result<Body> {
        let keep = length <= MAX_MESSAGE;
        let mut body = Vec::new();
        let mut lookout = Lookout::default();
        let mut remaining = length;
        while remaining > 0 {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(Body::Ended);
            }
            let chunk = available.get(..remaining.min(available.len())).unwrap_or_default();
            if let Some(end) = lookout.feed(chunk) {
                // The header name ends at `end`; whatever part of it came in earlier
                // chunks is the end of `body`, and goes back in front of the next line.
                let in_chunk = end.min(CONTENT_LENGTH.len());
                let earlier = CONTENT_LENGTH.len() - in_chunk;
                self.carry = body.get(body.len().saturating_sub(earlier)..).unwrap_or_default().to_vec();
                let start = end - in_chunk;
                self.reader.consume(start);
                return Ok(Body::Overrun);
            }
            let taken = chunk.len();
            if keep {
                body.extend_from_slice(chunk);
            } else {
                // Only the tail that could begin a header is needed.
                body.extend_from_slice(chunk.get(taken.saturating_sub(CONTENT_LENGTH.len())..).unwrap_or_default());
                body.drain(..body.len().saturating_sub(CONTENT_LENGTH.len()));
            }
            self.reader.consume(taken);
            remaining -= taken;
        }
        if lookout.matched > 0 {
            // No JSON text ends with `c`, `co`, …: the promised length cut into the next
            // message's header.
            self.carry = body.get(body.len().saturating_sub(lookout.matched)..).unwrap_or_default().to_vec();
            return Ok(Body::Overrun);
        }
        if !keep {
            body.clear();
        }
        Ok(Body::Whole(body))
    }
}

/// The value of a `Content-Length` header line, which may follow the unread end of a
/// message whose own `Content-Length` was too short; `None` for other lines.
fn content_length(line: &str) -> Option<&str> {
    if let Some((name, value)) = line.split_once(':')
        && name.trim().eq_ignore_ascii_case("content-length")
    {
        return Some(value);
    }
    let at = line.to_ascii_lowercase().rfind("content-length:")?;
    line.get(at + CONTENT_LENGTH.len()..)
}

/// Copies well-formed messages from `input` to `output` until `input` ends, replacing
/// malformed ones. A message whose `Content-Length` does not fit it costs that message
/// only: reading resumes at the next `Content-Length` header.
pub async fn sanitize<R, W>(input: R, mut output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = Input { reader: BufReader::new(input), carry: Vec::new() };
    loop {
        // Headers: lines up to an empty one; only Content-Length matters.
        let mut length: Option<Result<usize, String>> = None;
        let mut seen_any = false;
        loop {
            let Some(line) = input.header_line().await? else {
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
            if let Some(value) = content_length(&line) {
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
        // Read what arrives rather than allocating what the header claims.
        let standin = match input.body(length).await? {
            Body::Ended => {
                output.shutdown().await?;
                return Ok(());
            }
            Body::Overrun => {
                malformed("parse", format!("the Content-Length of {length} bytes runs into the next message's header"))
            }
            Body::Whole(_) if length > MAX_MESSAGE => {
                malformed("invalid", format!("a message of {length} bytes is too large"))
            }
            Body::Whole(body) => match check(&body) {
                Ok(()) => {
                    write_frame(&mut output, &body).await?;
                    continue;
                }
                Err(standin) => standin,
            },
        };
        write_frame(&mut output, standin.to_string().as_bytes()).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `sanitize` over `bytes` delivered `chunk` bytes at a time: what it passes on.
    async fn sanitized(bytes: &[u8], chunk: usize) -> String {
        let (mut client, server) = tokio::io::duplex(chunk);
        let bytes = bytes.to_vec();
        let writer = tokio::spawn(async move { client.write_all(&bytes).await });
        let mut out = Vec::new();
        sanitize(server, &mut out).await.unwrap();
        writer.await.unwrap().unwrap();
        String::from_utf8(out).unwrap()
    }

    /// However the reads split the stream, even inside the next header's name, a body whose
    /// `Content-Length` is too long (by 1 to 20 bytes) gives one stand-in and the next
    /// message passes on whole.
    #[tokio::test]
    async fn an_overrun_is_found_across_reads() {
        let bad = r#"{"jsonrpc":"2.0","method":"a","params":{"s":"content-length: 1"}}"#;
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"b"}"#;
        for extra in 1..=20 {
            let framed = format!(
                "Content-Length: {}\r\n\r\n{bad}Content-Length: {}\r\n\r\n{good}",
                bad.len() + extra,
                good.len()
            );
            for chunk in [1, 2, 3, 7, 16, 64, 4096] {
                let out = sanitized(framed.as_bytes(), chunk).await;
                assert_eq!(out.matches(MALFORMED).count(), 1, "{extra} over, reads of {chunk}: {out}");
                assert!(out.contains("runs into the next message's header"), "{extra} over, reads of {chunk}: {out}");
                assert!(out.ends_with(&format!("Content-Length: {}\r\n\r\n{good}", good.len())), "{out}");
            }
        }
    }
}
