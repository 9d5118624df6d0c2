//! The only place store records are encoded and decoded.
//!
//! A record is one format-version byte followed by its `postcard` encoding.
//! postcard is not self-describing, so free-form JSON values are kept as JSON
//! text ([`json_text`]) and timestamps as Unix nanoseconds ([`timestamp`]).
//! Changing a record's shape means a new format version and a migration.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// Format version written in front of every record.
pub const FORMAT_VERSION: u8 = 1;

/// Encodes a record: version byte + postcard.
pub fn encode<T: Serialize>(table: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_extend(value, vec![FORMAT_VERSION]).map_err(|e| StoreError::Codec {
        table,
        message: format!("cannot encode record: {e}"),
    })
}

/// Decodes a record written by [`encode`].
pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, rest)) => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Codec {
                table,
                message: format!("cannot decode record: {e}"),
            })
        }
        Some((version, _)) => Err(StoreError::Codec {
            table,
            message: format!(
                "record format version {version} is not supported (expected {FORMAT_VERSION}); \
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

    #[test]
    fn an_unknown_format_version_is_an_error_not_a_panic() {
        let err = decode::<Sample>("t", &[99, 1, 2]).unwrap_err();
        assert!(err.to_string().contains("format version 99"), "{err}");
        assert!(decode::<Sample>("t", &[]).is_err());
        assert!(decode::<Sample>("t", &[FORMAT_VERSION, 0xff]).is_err());
    }
}
