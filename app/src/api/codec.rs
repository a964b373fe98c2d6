//! The server functions' JSON, read in the browser the way Leptos reads a resource's hydration
//! data: from a `&str`.
//!
//! `serde_json` compiles each type's decoder once per kind of reader. Server functions'
//! stock [`JsonEncoding`](leptos::server_fn::codec::JsonEncoding) reads a byte slice, while a
//! resource's data serialized into the page is read from a string, so every type that is
//! both fetched and hydrated (the overview, the run outline, strategies, …) carried two
//! decoders in the WASM bundle. One reader halves that part of the bundle. The bytes on the
//! wire are the same JSON, so scripts see no difference.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{Serialize, de::DeserializeOwned};

/// JSON, decoded from text.
pub struct TextJsonEncoding;

/// Answers (and, where a function takes JSON, arguments) as JSON in a `POST` body.
pub type Json = Post<TextJsonEncoding>;

impl ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for TextJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::codec::JsonEncoding;

    #[test]
    fn reads_and_writes_the_same_json_as_the_stock_encoding() {
        let value = serde_json::json!({"name": "east", "members": [1, 2, 3], "note": "é"});
        let ours = <TextJsonEncoding as Encodes<_>>::encode(&value).unwrap();
        let stock = <JsonEncoding as Encodes<_>>::encode(&value).unwrap();
        assert_eq!(ours, stock);
        let back: serde_json::Value = TextJsonEncoding::decode(ours).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn an_answer_that_is_not_utf8_or_not_json_is_an_error() {
        let not_utf8 = Bytes::from_static(&[b'"', 0xff, b'"']);
        assert!(<TextJsonEncoding as Decodes<String>>::decode(not_utf8).is_err());
        let not_json = Bytes::from_static(b"{\"name\":");
        assert!(<TextJsonEncoding as Decodes<serde_json::Value>>::decode(not_json).is_err());
    }
}
