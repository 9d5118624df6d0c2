//! The only place store records are encoded and decoded.
//!
//! A record is one format-version byte followed by its `postcard` encoding.
//! postcard is not self-describing, so free-form JSON values are kept as JSON
//! text ([`json_text`]) and timestamps as Unix nanoseconds ([`timestamp`]).
//! Changing a record's shape means a new format version and a migration.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// Format version written in front of every record whose shape never
/// changed (records of a changed shape use their own, see [`encode_v`]).
pub const FORMAT_VERSION: u8 = 1;

/// The highest format version any record of this build has (user records
/// are at 2 since schema version 2 added roles); a restore refuses higher.
pub const NEWEST_FORMAT_VERSION: u8 = 2;

/// Encodes a record: version byte + postcard.
pub fn encode<T: Serialize>(table: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    encode_v(table, FORMAT_VERSION, value)
}

/// Decodes a record written by [`encode`].
pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    decode_v(table, FORMAT_VERSION, bytes)
}

/// Encodes a record with format version `version`.
pub fn encode_v<T: Serialize>(
    table: &'static str,
    version: u8,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    postcard::to_extend(value, vec![version]).map_err(|e| StoreError::Codec {
        table,
        message: format!("cannot encode record: {e}"),
    })
}

/// Decodes a record that must have format version `expected`.
pub fn decode_v<T: DeserializeOwned>(
    table: &'static str,
    expected: u8,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((v, rest)) if *v == expected => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Codec {
                table,
                message: format!("cannot decode record: {e}"),
            })
        }
        Some((version, _)) => Err(StoreError::Codec {
            table,
            message: format!(
                "record format version {version} is not supported (expected {expected}); \
                 this database was written by another attune version"
            ),
        }),
        None => Err(StoreError::Codec {
            table,
            message: "empty record".to_string(),
        }),
    }
}

/// serde adapter: a `serde_json::Value` stored as JSON text.
pub mod json_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &serde_json::Value, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
        text.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// JSON kept as its text end to end: stored as a string (see [`json_raw`]),
/// served as raw JSON (its `Serialize` writes the text verbatim into a
/// serde_json output), so reading a record and answering with it neither
/// parses the JSON into a tree nor prints it again.
#[derive(Clone)]
pub struct JsonText(Box<serde_json::value::RawValue>);

impl JsonText {
    /// The compact JSON text of `value`.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<JsonText, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(JsonText)
    }

    /// Checks that `text` is one JSON value and keeps it (no copy).
    pub fn from_text(text: String) -> Result<JsonText, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(JsonText)
    }

    /// `null`.
    pub fn null() -> JsonText {
        JsonText(serde_json::value::RawValue::NULL.to_owned())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the text into `T` (e.g. a `serde_json::Value`).
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl Default for JsonText {
    fn default() -> Self {
        JsonText::null()
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// serde adapter: a [`JsonText`] stored as a string — the same bytes as
/// [`json_text`] writes for the equal `serde_json::Value`, so records need
/// no migration.
pub mod json_raw {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::JsonText;

    pub fn serialize<S: Serializer>(value: &JsonText, s: S) -> Result<S::Ok, S::Error> {
        value.get().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<JsonText, D::Error> {
        let text = String::deserialize(d)?;
        JsonText::from_text(text).map_err(serde::de::Error::custom)
    }
}

/// serde adapter: an `OffsetDateTime` stored as Unix nanoseconds (UTC).
pub mod timestamp {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(value: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        value.unix_timestamp_nanos().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let nanos = i128::deserialize(d)?;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        name: String,
        #[serde(with = "json_text")]
        extra: serde_json::Value,
        #[serde(with = "timestamp")]
        at: time::OffsetDateTime,
    }

    #[test]
    fn a_record_round_trips_with_its_version_byte() {
        let sample = Sample {
            name: "x".into(),
            extra: serde_json::json!({"a": [1, 2, {"b": null}]}),
            at: time::macros::datetime!(2026-01-02 03:04:05.123456789 UTC),
        };
        let bytes = encode("t", &sample).unwrap();
        assert_eq!(bytes[0], FORMAT_VERSION);
        let back: Sample = decode("t", &bytes).unwrap();
        assert_eq!(back, sample);
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct RawSample {
        name: String,
        #[serde(with = "json_raw")]
        extra: JsonText,
        #[serde(with = "timestamp")]
        at: time::OffsetDateTime,
    }

    #[test]
    fn json_text_is_stored_as_the_same_bytes_as_a_parsed_value_and_served_verbatim() {
        let at = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        let value = serde_json::json!({"z": 1, "a": [1.5, "x\"y", {"b": null}]});
        let parsed = Sample {
            name: "x".into(),
            extra: value.clone(),
            at,
        };
        let raw = RawSample {
            name: "x".into(),
            extra: JsonText::from_value(&value).unwrap(),
            at,
        };
        let bytes = encode("t", &parsed).unwrap();
        assert_eq!(bytes, encode("t", &raw).unwrap());
        let back: RawSample = decode("t", &bytes).unwrap();
        assert_eq!(back, raw);
        assert_eq!(back.extra.parse::<serde_json::Value>().unwrap(), value);
        assert_eq!(
            serde_json::to_string(&back.extra).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
        assert_eq!(serde_json::to_string(&JsonText::null()).unwrap(), "null");
        // stored text that is not JSON is a decode error, not a panic
        let broken = encode(
            "t",
            &(
                "x".to_string(),
                "{\"a\":".to_string(),
                at.unix_timestamp_nanos(),
            ),
        )
        .unwrap();
        assert!(decode::<RawSample>("t", &broken).is_err());
    }

    #[test]
    fn an_unknown_format_version_is_an_error_not_a_panic() {
        let err = decode::<Sample>("t", &[99, 1, 2]).unwrap_err();
        assert!(err.to_string().contains("format version 99"), "{err}");
        assert!(decode::<Sample>("t", &[]).is_err());
        assert!(decode::<Sample>("t", &[FORMAT_VERSION, 0xff]).is_err());
    }
}
