//! The wire: LSP base-protocol frames (`Content-Length` headers + a JSON
//! body) read with bounds, written one at a time.
//!
//! lsp-server's own stdio reader stops the connection at the first
//! malformed message and allocates whatever `Content-Length` says, so it is
//! replaced here: a header line is at most 8 KiB, a body at most
//! [`MAX_MESSAGE_BYTES`] (a larger one is read and dropped in chunks), and a
//! body that is not JSON or not a JSON-RPC message becomes an error answer
//! (`-32700` parse error, `-32600` invalid request) while the connection
//! goes on.

use lsp_server::{Message, RequestId};
use serde_json::{Value, json};
use std::io::{self, BufRead, Read, Write};

/// The largest message body read (a 10 MB document, JSON-escaped, fits).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
const MAX_HEADER_LINE: u64 = 8 * 1024;

/// What one frame held.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// A frame that is not a usable message; answered with this error.
    Invalid {
        id: Option<RequestId>,
        code: i32,
        message: String,
    },
}

/// JSON-RPC error codes used here.
pub mod codes {
    pub const PARSE_ERROR: i32 = -32700;
    pub const INVALID_REQUEST: i32 = -32600;
    pub const METHOD_NOT_FOUND: i32 = -32601;
    pub const INVALID_PARAMS: i32 = -32602;
    pub const INTERNAL_ERROR: i32 = -32603;
    pub const SERVER_NOT_INITIALIZED: i32 = -32002;
    pub const REQUEST_CANCELLED: i32 = -32800;
}

fn invalid(code: i32, message: impl Into<String>) -> Incoming {
    Incoming::Invalid {
        id: None,
        code,
        message: message.into(),
    }
}

/// Read the next frame; `Ok(None)` at the end of the input.
pub fn read_frame(r: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let mut length: Option<usize> = None;
    let mut bad_header: Option<String> = None;
    let mut saw_header = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .by_ref()
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if !line.ends_with(b"\n") {
            // An over-long header line: drop the rest of it.
            if n as u64 >= MAX_HEADER_LINE {
                skip_line(r)?;
                bad_header = Some("a header line is longer than 8 KiB".to_string());
                continue;
            }
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !saw_header {
                // Blank lines between frames are tolerated.
                continue;
            }
            break;
        }
        saw_header = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(v) => length = Some(v),
                    Err(_) => {
                        bad_header = Some(format!(
                            "Content-Length '{}' is not a number",
                            value.trim().chars().take(40).collect::<String>()
                        ))
                    }
                }
            }
            Some(_) => {}
            None => {
                bad_header = Some(format!(
                    "malformed header line '{}'; expected `Name: value`",
                    text.chars().take(40).collect::<String>()
                ))
            }
        }
    }
    let Some(len) = length else {
        let why = bad_header.unwrap_or_else(|| "a frame has no Content-Length header".to_string());
        return Ok(Some(invalid(codes::PARSE_ERROR, why)));
    };
    if len > MAX_MESSAGE_BYTES {
        let copied = io::copy(&mut r.by_ref().take(len as u64), &mut io::sink())?;
        if copied < len as u64 {
            return Ok(None);
        }
        return Ok(Some(invalid(
            codes::INVALID_REQUEST,
            format!(
                "message of {len} bytes is larger than the limit of {MAX_MESSAGE_BYTES} bytes; it was dropped"
            ),
        )));
    }
    let mut body = vec![0u8; len];
    if let Err(e) = r.read_exact(&mut body) {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            return Ok(None);
        }
        return Err(e);
    }
    Ok(Some(parse_body(&body)))
}

fn skip_line(r: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            r.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        r.consume(n);
    }
}

fn parse_body(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return invalid(
                codes::PARSE_ERROR,
                format!("the message is not valid JSON: {e}"),
            );
        }
    };
    let Some(obj) = value.as_object() else {
        return invalid(
            codes::INVALID_REQUEST,
            "a JSON-RPC message must be an object (batches are not supported)",
        );
    };
    let id: Option<RequestId> = match obj.get("id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(RequestId::from),
        Some(Value::String(s)) => Some(RequestId::from(s.clone())),
        _ => None,
    };
    let has_method = obj.get("method").is_some_and(Value::is_string);
    if obj.contains_key("method") && !has_method {
        return Incoming::Invalid {
            id,
            code: codes::INVALID_REQUEST,
            message: "method must be a string".to_string(),
        };
    }
    if !(has_method || obj.contains_key("result") || obj.contains_key("error")) {
        return Incoming::Invalid {
            id,
            code: codes::INVALID_REQUEST,
            message: "a JSON-RPC message needs a method (request or notification) or a result/error (response)".to_string(),
        };
    }
    if obj.contains_key("id") && id.is_none() && has_method {
        return invalid(
            codes::INVALID_REQUEST,
            "a request id must be an integer or a string",
        );
    }
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(e) => Incoming::Invalid {
            id,
            code: codes::INVALID_REQUEST,
            message: format!("not a JSON-RPC message: {e}"),
        },
    }
}

/// What the writer thread sends.
#[derive(Debug)]
pub enum Outgoing {
    Message(Message),
    /// An error answer to a message whose id is unknown (`"id": null`).
    NullIdError {
        code: i32,
        message: String,
    },
}

/// Write one frame.
pub fn write_frame(w: &mut impl Write, out: Outgoing) -> io::Result<()> {
    match out {
        Outgoing::Message(m) => m.write(w),
        Outgoing::NullIdError { code, message } => {
            let body =
                json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}})
                    .to_string();
            write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
            w.write_all(body.as_bytes())?;
            w.flush()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Incoming> {
        let mut r = io::BufReader::new(input);
        let mut v = Vec::new();
        while let Some(f) = read_frame(&mut r).unwrap() {
            v.push(f);
        }
        v
    }

    fn frame(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    #[test]
    fn good_and_bad_frames_alternate_without_losing_the_stream() {
        let mut input = frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
        input.extend(frame("{not json"));
        input.extend(frame("[1,2]"));
        input.extend(b"X-Nonsense\r\n\r\n");
        input.extend(frame(
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        let f = frames(&input);
        assert_eq!(f.len(), 5);
        assert!(
            matches!(&f[0], Incoming::Message(Message::Request(r)) if r.method == "initialize")
        );
        assert!(matches!(
            &f[1],
            Incoming::Invalid {
                code: codes::PARSE_ERROR,
                ..
            }
        ));
        assert!(matches!(
            &f[2],
            Incoming::Invalid {
                code: codes::INVALID_REQUEST,
                ..
            }
        ));
        assert!(matches!(
            &f[3],
            Incoming::Invalid {
                code: codes::PARSE_ERROR,
                ..
            }
        ));
        assert!(matches!(&f[4], Incoming::Message(Message::Notification(_))));
    }

    #[test]
    fn a_huge_content_length_is_not_allocated() {
        let input = b"Content-Length: 99999999999\r\n\r\n{}".to_vec();
        // The body is shorter than announced: end of input, no allocation.
        assert!(frames(&input).is_empty());
    }

    #[test]
    fn a_request_with_a_bad_shape_keeps_its_id() {
        let f = frames(&frame(r#"{"jsonrpc":"2.0","id":7,"method":3}"#));
        assert!(
            matches!(&f[0], Incoming::Invalid { id: Some(id), code: codes::INVALID_REQUEST, .. } if *id == RequestId::from(7))
        );
    }
}
