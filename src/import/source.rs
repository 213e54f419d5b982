//! The only I/O of the import layer: reading a release file from disk.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads `path`, gunzipping it when it starts with the gzip magic bytes.
///
/// Detection is by content, not extension, because official downloads get renamed.
pub fn read_decompressed(path: &Path) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 8);
    // Multi-member aware: `gzip` concatenations are still one file.
    flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out)?;
    Ok(out)
}

/// Lowercase hex SHA-256 of `data`, to record exactly which bytes were imported.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("claimscrub-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn gzip_is_detected_by_magic_bytes_not_extension() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"hello\r\n").unwrap();
        let gz = encoder.finish().unwrap();
        let disguised = temp_file("plain-name.txt", &gz);
        let plain = temp_file("looks-compressed.gz", b"plain");
        assert_eq!(read_decompressed(&disguised).unwrap(), b"hello\r\n");
        assert_eq!(read_decompressed(&plain).unwrap(), b"plain");
        std::fs::remove_file(disguised).unwrap();
        std::fs::remove_file(plain).unwrap();
    }

    #[test]
    fn corrupt_gzip_is_an_io_error() {
        let path = temp_file("corrupt.gz", &[0x1f, 0x8b, 0x08, 0x00, 0x01]);
        assert!(read_decompressed(&path).is_err());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn shared_file_hash_matches_readme() {
        let Some(data) = super::super::tests::read_shared("pos/pos_codes.csv") else {
            return;
        };
        assert_eq!(
            sha256_hex(&data),
            "33d643f904543bcc30fd8ac27665c3bcb784b81acb54afe9ff455d98e4030881"
        );
    }
}
