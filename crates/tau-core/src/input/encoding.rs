//! Text in the encodings spreadsheets save it in. Excel's "CSV UTF-8" is
//! UTF-8 with a byte-order mark; its plain "CSV" is the Windows code page
//! (Windows-1252 in Western Europe and the Americas); "Unicode text" is
//! UTF-16 with a byte-order mark. UTF-16 is recognised by its byte-order mark,
//! and bytes that are not valid UTF-8 are read as Windows-1252, which gives
//! every byte a character (the WHATWG Encoding Standard's decoders, by
//! [encoding_rs](https://docs.rs/encoding_rs)).

use std::borrow::Cow;

/// Decoded text and the encoding it was read in when that was not UTF-8.
pub type Decoded<'a> = (Cow<'a, str>, Option<&'static str>);

/// Bytes as text, and the encoding they were read in when it was not UTF-8
/// (`"UTF-16LE"`, `"UTF-16BE"`, `"Windows-1252"`), for a note.
///
/// With `legacy` false, bytes that are neither UTF-8 nor UTF-16 are an
/// error, the 1-based line and byte where the UTF-8 breaks (JSON is UTF-8 by
/// definition, RFC 8259 §8.1).
pub fn decode(bytes: &[u8], legacy: bool) -> Result<Decoded<'_>, (usize, usize)> {
    for (bom, encoding) in [
        (&[0xFF, 0xFE][..], encoding_rs::UTF_16LE),
        (&[0xFE, 0xFF][..], encoding_rs::UTF_16BE),
    ] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, _) = encoding.decode_without_bom_handling(rest);
            return Ok((text, Some(encoding.name())));
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), None)),
        Err(_) if legacy => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok((text, Some("Windows-1252")))
        }
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Err((line, at + 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_kept_and_windows_1252_read() {
        let (text, encoding) = decode("Müller".as_bytes(), true).expect("utf-8");
        assert_eq!((&*text, encoding), ("Müller", None));
        let (text, encoding) = decode(b"M\xfcller;\x80", true).expect("cp1252");
        assert_eq!((&*text, encoding), ("Müller;€", Some("Windows-1252")));
        assert_eq!(decode(b"a\nM\xfcller", false), Err((2, 4)));
    }

    #[test]
    fn utf16_is_found_by_its_byte_order_mark() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("study,yi\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let (text, encoding) = decode(&le, false).expect("utf-16le");
        assert_eq!((&*text, encoding), ("study,yi\n", Some("UTF-16LE")));
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Å".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be, true).expect("utf-16be").0, "Å");
    }
}
