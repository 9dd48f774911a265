//! Worker photos. An upload is decoded within limits, turned upright, cropped to a 3:4
//! portrait and re-encoded as a JPEG of fixed size: whatever metadata the file carried (the
//! place it was taken, the phone, comments) is not copied, and a file that only claims to be an
//! image goes no further. The result is kept on disk under its SHA-256.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use jiazheng_core::FieldErrors;
use jiazheng_core::field::Invalid;
use sha2::{Digest, Sha256};

use crate::AppError;
use crate::files::Folder;

/// The largest file taken: a phone's full-size photo fits.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The largest picture decoded, so a small file cannot unpack into gigabytes or hold the
/// server for long: a phone's usual 12 or 24 megapixels pass, a 48-megapixel mode does not.
const MAX_PIXELS: u64 = 25_000_000;
const MAX_SIDE: u32 = 8_000;
/// Below this a face cannot be told apart at the door.
const MIN_SIZE: (u32, u32) = (150, 200);
/// What is stored: 3:4, sharp on a phone screen and on the card at 600 dpi.
pub const STORED_SIZE: (u32, u32) = (360, 480);
const QUALITY: u8 = 85;

/// Why an upload was refused; each says so in words beside the file field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLarge,
    NotAnImage,
    TooManyPixels,
    TooSmall,
}

impl Refusal {
    pub fn invalid(self) -> Invalid {
        match self {
            Refusal::Empty => Invalid::new("required", "请选择一张照片", "choose a photo"),
            Refusal::TooLarge => {
                Invalid::new("too_large", "照片文件不能超过 10 MB", "the photo file is larger than 10 MB")
            }
            Refusal::NotAnImage => {
                Invalid::new("not_an_image", "不是有效的 JPEG 或 PNG 图片", "not a valid JPEG or PNG picture")
            }
            Refusal::TooManyPixels => Invalid::new(
                "too_many_pixels",
                "照片像素过多（至多 5000 万像素）",
                "the photo has more than 50 megapixels",
            ),
            Refusal::TooSmall => Invalid::new(
                "too_small",
                "照片太小，至少 150×200 像素才能看清面部",
                "the photo is too small: at least 150×200 pixels to show a face",
            ),
        }
    }

    pub fn into_error(self) -> AppError {
        AppError::Invalid(FieldErrors(vec![self.invalid().at("photo")]))
    }
}

/// Decodes an upload and re-encodes it as the stored portrait JPEG.
pub fn normalise(upload: &[u8]) -> Result<Vec<u8>, Refusal> {
    if upload.is_empty() {
        return Err(Refusal::Empty);
    }
    if upload.len() > MAX_BYTES {
        return Err(Refusal::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(upload)).with_guessed_format().map_err(|_| Refusal::NotAnImage)?;
    if !matches!(reader.format(), Some(ImageFormat::Jpeg | ImageFormat::Png)) {
        return Err(Refusal::NotAnImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| refusal_of(&e))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels);
    }
    // A phone stores the picture sideways and says which way is up in its metadata.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| refusal_of(&e))?;
    picture.apply_orientation(orientation);
    if picture.width() < MIN_SIZE.0 || picture.height() < MIN_SIZE.1 {
        return Err(Refusal::TooSmall);
    }
    let portrait = on_white(&picture.resize_to_fill(STORED_SIZE.0, STORED_SIZE.1, FilterType::CatmullRom));
    let mut out = Vec::with_capacity(64 * 1024);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&portrait)
        .map_err(|_| Refusal::NotAnImage)?;
    Ok(out)
}

fn refusal_of(error: &image::ImageError) -> Refusal {
    match error {
        image::ImageError::Limits(_) => Refusal::TooManyPixels,
        _ => Refusal::NotAnImage,
    }
}

/// Transparent parts of a PNG become white, as on a printed card.
fn on_white(picture: &DynamicImage) -> RgbImage {
    let rgba = picture.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// The stored photos, one file per digest.
pub struct Photos(Folder);

impl Photos {
    pub fn new(folder: Folder) -> Self {
        Self(folder)
    }

    fn name(digest: &str) -> String {
        format!("{digest}.jpg")
    }

    /// Keeps the JPEG and returns its digest.
    pub fn save(&self, jpeg: &[u8]) -> Result<String, AppError> {
        let digest = hex::encode(Sha256::digest(jpeg));
        if self.0.read(&Self::name(&digest)).is_none() {
            self.0.write(&Self::name(&digest), jpeg)?;
        }
        Ok(digest)
    }

    pub fn load(&self, digest: &str) -> Option<Vec<u8>> {
        // Only digests the database gave; never a path from a request.
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.0.read(&Self::name(digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, alpha: u8) -> Vec<u8> {
        let picture = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, alpha]));
        let mut out = Vec::new();
        picture.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn a_png_becomes_a_portrait_jpeg_of_the_stored_size() {
        let jpeg = normalise(&png(800, 600, 255)).unwrap();
        let stored = image::load_from_memory(&jpeg).unwrap();
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
        assert_eq!((stored.width(), stored.height()), STORED_SIZE);
    }

    #[test]
    fn transparency_becomes_white() {
        let jpeg = normalise(&png(300, 400, 0)).unwrap();
        let pixel = image::load_from_memory(&jpeg).unwrap().to_rgb8().get_pixel(180, 240).0;
        assert!(pixel.iter().all(|c| *c > 245), "{pixel:?}");
    }

    #[test]
    fn files_that_are_not_pictures_or_are_too_small_are_refused() {
        assert_eq!(normalise(b""), Err(Refusal::Empty));
        assert_eq!(normalise(b"%PDF-1.7 not a picture"), Err(Refusal::NotAnImage));
        let mut truncated = png(400, 400, 255);
        truncated.truncate(60);
        assert_eq!(normalise(&truncated), Err(Refusal::NotAnImage));
        assert_eq!(normalise(&png(100, 120, 255)), Err(Refusal::TooSmall));
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(normalise(gif), Err(Refusal::NotAnImage), "only JPEG and PNG");
    }

    #[test]
    fn a_small_file_claiming_a_huge_picture_is_refused_before_decoding() {
        // A PNG header that says 20,000 × 20,000 (400 megapixels) over a few bytes of data.
        let mut bomb = png(1, 1, 255);
        bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let crc = crc_of(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(normalise(&bomb), Err(Refusal::TooManyPixels)), "{:?}", normalise(&bomb));
    }

    /// PNG's chunk checksum (CRC-32), so the forged header is otherwise valid.
    fn crc_of(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn metadata_is_not_carried_over() {
        // A JPEG with a comment segment naming a place: the stored file holds pixels only.
        let picture = image::RgbImage::from_pixel(300, 400, image::Rgb([10, 120, 200]));
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut plain).encode_image(&picture).unwrap();
        let comment = b"\xFF\xFE\x00\x16GPS 43.88N 125.35E !!";
        let tagged = [&plain[..2], &comment[..], &plain[2..]].concat();
        let stored = normalise(&tagged).unwrap();
        assert!(!stored.windows(3).any(|w| w == b"GPS"), "the comment is gone");
    }
}
