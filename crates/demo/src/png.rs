//! A tiny PNG encoder for the fixture image origin: solid-ish images of any size, so the demo
//! needs no binary assets.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};

/// An RGB PNG of `width`×`height` with a diagonal gradient seeded by `seed`.
pub fn png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let base = [
        seed.wrapping_mul(67) as u8,
        seed.wrapping_mul(131) as u8,
        seed.wrapping_mul(29) as u8,
    ];
    let mut raw = Vec::with_capacity((height * (width * 3 + 1)) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let shade = ((x + y) * 255 / (width + height).max(1)) as u8;
            raw.extend(base.iter().map(|c| c.wrapping_add(shade / 2)));
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(&raw).expect("writing to a Vec cannot fail");
    let data = z.finish().expect("writing to a Vec cannot fail");

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &data);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend(crc.sum().to_be_bytes());
}

/// A 1×1 transparent GIF, the placeholder lazy-loading pages put in `src`.
pub const PIXEL_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_signature_header_and_size() {
        let p = png(7, 3, 1);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&p[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(p[16..20].try_into().unwrap()), 7);
        assert_eq!(u32::from_be_bytes(p[20..24].try_into().unwrap()), 3);
        assert!(p.ends_with(b"IEND\xae\x42\x60\x82"));
    }
}
