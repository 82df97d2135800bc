//! App thumbnails: the image stored as a data URL in `user_options.thumbnail`.
//!
//! jhub-apps stores whatever is uploaded, typed by the file name's extension, with no size
//! limit on the server; every `server/` answer then carries all of it inline. japps instead:
//! - reads the type from the content (magic bytes, then a full decode) and accepts PNG, JPEG,
//!   GIF and WebP only. SVG is refused: it can carry scripts, and sanitising it is a losing
//!   game; a bitmap has nothing to run;
//! - refuses uploads over [`ThumbnailPolicy::max_upload_bytes`] (413), and images whose
//!   declared size would need too much memory to decode (checked on the header, before any
//!   pixel buffer exists), so a decompression bomb costs nothing;
//! - scales the image down to at most [`ThumbnailPolicy::max_side`] pixels on its longest side
//!   (never up), after applying its EXIF orientation, and re-encodes it. Re-encoding drops
//!   every metadata chunk (EXIF, GPS, comments, ICC), keeps the first frame of an animation,
//!   and leaves nothing of the uploaded bytes (no polyglot files survive);
//! - falls back to japps' own logo of the framework ([`default_thumbnail`]).
//!
//! Output format: PNG when the image has transparent pixels, otherwise JPEG at quality 85.
//! Both are what every browser (and jhub-apps' own UI) displays. The `image` crate encodes
//! WebP losslessly only, which for photos is several times larger than JPEG; lossy WebP would
//! need libwebp (C code) for a few kilobytes per app.
//!
//! Decoding and re-encoding take up to a few hundred milliseconds of CPU for a large photo:
//! callers in async code should run these functions with `tokio::task::spawn_blocking`,
//! holding a [`decode_turn`] so that a burst of uploads cannot take every core (or every
//! blocking thread) of the service.

use std::io::Cursor;
use std::num::NonZero;
use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader};
use japps_domain::JAppsConfig;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::application::ApplicationError;
use crate::application::catalog;

/// Images decoded at once: one per core.
static DECODES: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, NonZero::get)));
/// How long a request waits for a turn before it is told to come back.
const DECODE_WAIT: Duration = Duration::from_secs(3);
/// What it is told.
const DECODE_RETRY_AFTER: Duration = Duration::from_secs(2);

/// A turn to decode an image, held while it is decoded; 429 (`Busy`) after a short wait
/// when every core is already decoding.
pub(crate) async fn decode_turn() -> Result<SemaphorePermit<'static>, ApplicationError> {
    turn(&DECODES, DECODE_WAIT).await
}

async fn turn(slots: &Semaphore, wait: Duration) -> Result<SemaphorePermit<'_>, ApplicationError> {
    match tokio::time::timeout(wait, slots.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) | Err(_) => Err(ApplicationError::Busy {
            detail: "Too many images are being processed right now; try again in a moment".into(),
            retry_after: DECODE_RETRY_AFTER,
        }),
    }
}

/// The longest side of a stored thumbnail, in pixels. The launcher's cards show them at
/// about 225×130 (jhub-apps' recommendation), so this leaves room for high-density screens.
pub(crate) const MAX_SIDE: u32 = 400;

/// The largest image side japps decodes at all.
const MAX_INPUT_SIDE: u32 = 8000;

/// The most memory one decoded image may take: a 40-megapixel RGB photo fits, an 8000×8000
/// RGBA image (256 MB) does not.
const MAX_DECODED_BYTES: u64 = 128 * 1024 * 1024;

const JPEG_QUALITY: u8 = 85;

const ACCEPTED: &str = "PNG, JPEG, GIF or WebP";

/// Base64 as browsers write it, also accepted without the trailing `=` padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How thumbnails are bounded.
#[derive(Debug, Clone)]
pub(crate) struct ThumbnailPolicy {
    /// Uploads larger than this are refused with 413 (`c.JAppsConfig.thumbnail_max_bytes`).
    pub(crate) max_upload_bytes: usize,
    /// The longest side of a stored thumbnail, in pixels.
    pub(crate) max_side: u32,
}

impl ThumbnailPolicy {
    pub(crate) fn from_config(config: &JAppsConfig) -> Self {
        Self {
            max_upload_bytes: usize::try_from(config.thumbnail_max_bytes).unwrap_or(usize::MAX),
            max_side: MAX_SIDE,
        }
    }
}

/// An uploaded image → the data URL stored in `user_options.thumbnail`.
pub(crate) fn data_url_from_upload(
    bytes: &[u8],
    policy: &ThumbnailPolicy,
) -> Result<String, ApplicationError> {
    if bytes.len() > policy.max_upload_bytes {
        return Err(too_large(bytes.len(), policy.max_upload_bytes));
    }
    let image = decode(bytes)?;
    let image = scale_down(image, policy.max_side.max(1));
    encode(&image)
}

/// `thumbnail_data_url` sent back on edit (the app's current thumbnail): validated like an
/// upload, and re-encoded. One of japps' default thumbnails is kept as it is.
pub(crate) fn check_data_url(
    url: &str,
    policy: &ThumbnailPolicy,
) -> Result<String, ApplicationError> {
    if is_default_thumbnail(url) {
        return Ok(url.to_owned());
    }
    let not_accepted = || {
        ApplicationError::Invalid(format!(
            "thumbnail_data_url must be a data:image/...;base64 URL of a {ACCEPTED} image"
        ))
    };
    let (scheme, rest) = url.split_at_checked(5).ok_or_else(not_accepted)?;
    if !scheme.eq_ignore_ascii_case("data:") {
        return Err(not_accepted());
    }
    let (header, payload) = rest.split_once(',').ok_or_else(not_accepted)?;
    let header = header.to_ascii_lowercase();
    if header.starts_with("image/svg") {
        return Err(svg_refused());
    }
    let Some(mime) = header.strip_suffix(";base64") else {
        return Err(not_accepted());
    };
    if !matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    ) {
        return Err(not_accepted());
    }
    // Refused before decoding: base64 takes 4 characters for every 3 bytes (the last
    // group may hold only 1 or 2).
    let decoded_len = payload.len() / 4 * 3;
    if decoded_len.saturating_sub(2) > policy.max_upload_bytes {
        return Err(too_large(decoded_len, policy.max_upload_bytes));
    }
    let bytes = BASE64.decode(payload).map_err(|_| {
        ApplicationError::Invalid("thumbnail_data_url does not hold valid base64".into())
    })?;
    data_url_from_upload(&bytes, policy)
}

/// The default thumbnail of a framework (japps' own logo), as a data URL. An unknown
/// framework gets the logo of custom-command apps.
pub(crate) fn default_thumbnail(framework: &str) -> String {
    let svg = catalog::logo(framework)
        .or_else(|| catalog::logo("custom"))
        .unwrap_or_default();
    format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg))
}

/// Whether `url` is exactly one of [`default_thumbnail`]'s answers (our SVG, so safe).
pub(crate) fn is_default_thumbnail(url: &str) -> bool {
    static DEFAULTS: LazyLock<Vec<String>> = LazyLock::new(|| {
        japps_domain::frameworks::FRAMEWORKS
            .iter()
            .map(|framework| framework.name())
            .chain(["japps"])
            .map(default_thumbnail)
            .collect()
    });
    DEFAULTS.iter().any(|default| default == url)
}

/// Decodes an image whose type is read from its content, within the memory bounds.
fn decode(bytes: &[u8]) -> Result<DynamicImage, ApplicationError> {
    if bytes.is_empty() {
        return Err(ApplicationError::Invalid("the thumbnail is empty".into()));
    }
    if looks_like_svg(bytes) {
        return Err(svg_refused());
    }
    let format = image::guess_format(bytes).map_err(|_| {
        ApplicationError::Invalid(format!(
            "the thumbnail is not an image; upload {ACCEPTED} (the type is read from the \
             content, not from the file name)"
        ))
    })?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return Err(ApplicationError::Invalid(format!(
            "{} thumbnails are not accepted; upload {ACCEPTED}",
            format_name(format)
        )));
    }
    let invalid = |err: ImageError| match err {
        ImageError::Limits(_) => too_many_pixels(None),
        err => ApplicationError::Invalid(format!(
            "the thumbnail is not a valid {} image: {err}",
            format_name(format)
        )),
    };

    // Only headers are read here; the dimensions are checked before any pixel buffer exists.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(invalid)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ApplicationError::Invalid(
            "the thumbnail has no pixels".into(),
        ));
    }
    if width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE {
        return Err(too_many_pixels(Some((width, height))));
    }
    let total = decoder.total_bytes();
    if total > MAX_DECODED_BYTES {
        return Err(too_many_pixels(Some((width, height))));
    }
    // What the decoder may still allocate besides the image itself (e.g. a GIF frame).
    limits.max_image_width = Some(MAX_INPUT_SIDE);
    limits.max_image_height = Some(MAX_INPUT_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES - total);
    decoder.set_limits(limits).map_err(invalid)?;
    // Broken EXIF does not make a broken image: it is only not rotated.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Fits the image into `max_side`×`max_side`, keeping its aspect ratio; never enlarges.
fn scale_down(image: DynamicImage, max_side: u32) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let longest = width.max(height);
    if longest <= max_side {
        return image;
    }
    let shorter = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(max_side) + u64::from(longest) / 2) / u64::from(longest);
        u32::try_from(scaled).unwrap_or(max_side).max(1)
    };
    let (target_w, target_h) = if width >= height {
        (max_side, shorter(height))
    } else {
        (shorter(width), max_side)
    };
    // A fast box reduction to about twice the target first: a filter over a 8000-pixel
    // side would cost seconds; the filter's last step keeps edges clean.
    let image = if longest > max_side.saturating_mul(4) {
        image.thumbnail(target_w.saturating_mul(2), target_h.saturating_mul(2))
    } else {
        image
    };
    image.resize_exact(target_w, target_h, FilterType::CatmullRom)
}

/// Re-encodes the image (which drops all metadata) as a data URL.
fn encode(image: &DynamicImage) -> Result<String, ApplicationError> {
    let failed = |err: ImageError| {
        ApplicationError::Invalid(format!("the thumbnail could not be re-encoded: {err}"))
    };
    let mut out = Vec::new();
    // An alpha channel that is opaque everywhere does not need PNG.
    let translucent = image
        .color()
        .has_alpha()
        .then(|| image.to_rgba8())
        .filter(|rgba| rgba.pixels().any(|pixel| pixel.0[3] < u8::MAX));
    let mime = if let Some(rgba) = translucent {
        PngEncoder::new_with_quality(&mut out, CompressionType::Best, PngFilter::Adaptive)
            .write_image(
                rgba.as_raw(),
                rgba.width(),
                rgba.height(),
                image::ExtendedColorType::Rgba8,
            )
            .map_err(failed)?;
        "image/png"
    } else {
        let rgb = image.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .write_image(
                rgb.as_raw(),
                rgb.width(),
                rgb.height(),
                image::ExtendedColorType::Rgb8,
            )
            .map_err(failed)?;
        "image/jpeg"
    };
    Ok(format!("data:{mime};base64,{}", STANDARD.encode(&out)))
}

/// SVG (or any XML that holds an `<svg>` element), possibly after a BOM and blanks.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let head = &bytes[start..bytes.len().min(start + 4096)];
    if head.first() != Some(&b'<') {
        return false;
    }
    let head = head.to_ascii_lowercase();
    head.windows(4).any(|window| window == b"<svg")
}

fn format_name(format: ImageFormat) -> String {
    match format {
        ImageFormat::WebP => "WebP".into(),
        format => format
            .extensions_str()
            .first()
            .map_or_else(|| format!("{format:?}"), |ext| ext.to_ascii_uppercase()),
    }
}

fn svg_refused() -> ApplicationError {
    ApplicationError::Invalid(format!(
        "SVG thumbnails are not accepted; upload {ACCEPTED}"
    ))
}

fn too_large(size: usize, limit: usize) -> ApplicationError {
    ApplicationError::TooLarge(format!(
        "the thumbnail is {} ({size} bytes), more than the limit of {} ({limit} bytes)",
        human_size(size),
        human_size(limit)
    ))
}

fn too_many_pixels(dimensions: Option<(u32, u32)>) -> ApplicationError {
    let size = dimensions.map_or_else(String::new, |(w, h)| format!(" ({w}×{h} pixels)"));
    ApplicationError::Invalid(format!(
        "the thumbnail image is too large to process{size}: at most {MAX_INPUT_SIDE} pixels \
         per side and about 40 megapixels"
    ))
}

fn human_size(bytes: usize) -> String {
    for (unit, name) in [(1024 * 1024, "MiB"), (1024, "KiB")] {
        if bytes >= unit {
            if bytes.is_multiple_of(unit) {
                return format!("{} {name}", bytes / unit);
            }
            #[allow(clippy::cast_precision_loss, reason = "one decimal is shown")]
            let scaled = bytes as f64 / unit as f64;
            return format!("{scaled:.1} {name}");
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use image::{GenericImageView, ImageBuffer, Rgb, Rgba, RgbaImage};

    use super::*;

    fn policy() -> ThumbnailPolicy {
        ThumbnailPolicy::from_config(&JAppsConfig::default())
    }

    /// An opaque picture with some detail, so that encoders have work to do.
    fn picture(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        }))
    }

    /// Half transparent, half opaque.
    fn translucent(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgba8(ImageBuffer::from_fn(width, height, |x, y| {
            let alpha = if x < width / 2 { 0 } else { 255 };
            Rgba([(x % 256) as u8, (y % 256) as u8, 200, alpha])
        }))
    }

    fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let image = match format {
            // The JPEG encoder takes no alpha.
            ImageFormat::Jpeg => DynamicImage::ImageRgb8(image.to_rgb8()),
            _ => image.clone(),
        };
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// The mime type and the image of a data URL.
    fn open(url: &str) -> (String, DynamicImage) {
        let (header, payload) = url
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(";base64,"))
            .unwrap_or_else(|| panic!("not a base64 data URL: {}", &url[..url.len().min(60)]));
        let bytes = STANDARD.decode(payload).unwrap();
        (header.to_owned(), image::load_from_memory(&bytes).unwrap())
    }

    /// The refusal, with the status the routes give it.
    fn refused(result: Result<String, ApplicationError>) -> (StatusCode, String) {
        let err = result.expect_err("must be refused");
        let status = match &err {
            ApplicationError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApplicationError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            other => panic!("an unexpected refusal: {other:?}"),
        };
        (status, err.to_string())
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = u32::MAX;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        let mut checked = kind.to_vec();
        checked.extend_from_slice(data);
        chunk.extend_from_slice(&crc32(&checked).to_be_bytes());
        chunk
    }

    /// A PNG that declares `width`×`height` RGBA pixels but holds almost no data: what a
    /// decompression bomb looks like before its pixels are inflated.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[8, 6, 0, 0, 0]);
        png.extend(png_chunk(b"IHDR", &header));
        // zlib: a few thousand zero bytes take a few bytes.
        png.extend(png_chunk(
            b"IDAT",
            b"\x78\x9c\xed\xc1\x01\x0d\x00\x00\x00\xc2\xa0",
        ));
        png.extend(png_chunk(b"IEND", b""));
        png
    }

    #[test]
    fn policy_defaults() {
        let policy = policy();
        assert_eq!(policy.max_upload_bytes, 5 * 1024 * 1024);
        assert_eq!(policy.max_side, 400);
        let config = JAppsConfig {
            thumbnail_max_bytes: 1000,
            ..JAppsConfig::default()
        };
        assert_eq!(ThumbnailPolicy::from_config(&config).max_upload_bytes, 1000);
    }

    #[test]
    fn every_format_is_accepted_and_scaled() {
        // Small enough to be scaled, and to be encoded quickly as GIF and WebP here.
        let source = picture(480, 360);
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let url = data_url_from_upload(&encoded(&source, format), &policy())
                .unwrap_or_else(|err| panic!("{format:?}: {err}"));
            let (mime, image) = open(&url);
            assert_eq!(mime, "image/jpeg", "{format:?}: opaque images become JPEG");
            assert_eq!(image.dimensions(), (400, 300), "{format:?}");
        }
    }

    #[test]
    fn transparency_is_kept_as_png() {
        for format in [ImageFormat::Png, ImageFormat::Gif, ImageFormat::WebP] {
            let url = data_url_from_upload(&encoded(&translucent(480, 240), format), &policy())
                .unwrap_or_else(|err| panic!("{format:?}: {err}"));
            let (mime, image) = open(&url);
            assert_eq!(mime, "image/png", "{format:?}");
            assert_eq!(image.dimensions(), (400, 200), "{format:?}");
            assert_eq!(image.get_pixel(10, 100).0[3], 0, "{format:?}");
            assert_eq!(image.get_pixel(390, 100).0[3], 255, "{format:?}");
        }
        // An alpha channel that is opaque everywhere is not worth a PNG.
        let opaque = DynamicImage::ImageRgba8(picture(300, 300).to_rgba8());
        let url = data_url_from_upload(&encoded(&opaque, ImageFormat::Png), &policy()).unwrap();
        assert_eq!(open(&url).0, "image/jpeg");
    }

    #[test]
    fn large_images_are_scaled_to_the_longest_side() {
        for ((width, height), expected) in [
            ((2400, 600), (400, 100)),
            ((900, 2700), (133, 400)),
            ((401, 401), (400, 400)),
            ((3000, 1), (400, 1)),
        ] {
            let url = data_url_from_upload(
                &encoded(&picture(width, height), ImageFormat::Png),
                &policy(),
            )
            .unwrap();
            assert_eq!(open(&url).1.dimensions(), expected, "{width}×{height}");
        }
        let small = ThumbnailPolicy {
            max_side: 64,
            ..policy()
        };
        let url =
            data_url_from_upload(&encoded(&picture(640, 320), ImageFormat::Png), &small).unwrap();
        assert_eq!(open(&url).1.dimensions(), (64, 32));
    }

    #[test]
    fn small_images_are_not_enlarged() {
        for (width, height) in [(50, 30), (400, 12), (1, 1)] {
            let url = data_url_from_upload(
                &encoded(&picture(width, height), ImageFormat::Png),
                &policy(),
            )
            .unwrap();
            assert_eq!(open(&url).1.dimensions(), (width, height));
        }
    }

    #[test]
    fn a_scaled_thumbnail_stays_small() {
        // A noisy 1200×1200 picture: its PNG is megabytes, its thumbnail is not.
        let mut seed = 12345_u32;
        let noisy = DynamicImage::ImageRgb8(ImageBuffer::from_fn(1200, 1200, |_, _| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let [a, b, c, _] = seed.to_le_bytes();
            Rgb([a, b, c])
        }));
        let upload = encoded(&noisy, ImageFormat::Png);
        assert!(upload.len() > 1024 * 1024);
        let url = data_url_from_upload(&upload, &policy()).unwrap();
        assert!(url.len() < 200 * 1024, "{} bytes", url.len());
    }

    #[test]
    fn oversized_uploads_are_413_with_the_limit() {
        let upload = encoded(&picture(100, 100), ImageFormat::Png);
        let tight = ThumbnailPolicy {
            max_upload_bytes: 100,
            ..policy()
        };
        let (status, message) = refused(data_url_from_upload(&upload, &tight));
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            message.contains("limit of 100 bytes (100 bytes)"),
            "{message}"
        );
        // Exactly at the limit is fine.
        let exact = ThumbnailPolicy {
            max_upload_bytes: upload.len(),
            ..policy()
        };
        data_url_from_upload(&upload, &exact).unwrap();

        // Checked before anything is decoded: these bytes are not even an image.
        let big = vec![0_u8; 5 * 1024 * 1024 + 1];
        let (status, message) = refused(data_url_from_upload(&big, &policy()));
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            message
                .contains("5.0 MiB (5242881 bytes), more than the limit of 5 MiB (5242880 bytes)"),
            "{message}"
        );
    }

    #[test]
    fn svg_is_refused_with_or_without_script() {
        let svgs: [&[u8]; 5] = [
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#,
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#,
            b"\xEF\xBB\xBF  <?xml version=\"1.0\"?>\n<!DOCTYPE svg><SVG onload=\"alert(1)\"/>",
            b"\n\n<!-- a comment --><svg/>",
            // The logo japps itself ships is still SVG.
            include_bytes!("../../assets/logos/japps.svg"),
        ];
        for svg in svgs {
            let (status, message) = refused(data_url_from_upload(svg, &policy()));
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(
                message,
                "SVG thumbnails are not accepted; upload PNG, JPEG, GIF or WebP"
            );
        }
    }

    #[test]
    fn what_is_not_an_image_is_400() {
        let png = encoded(&picture(200, 200), ImageFormat::Png);
        let jpeg = encoded(&picture(200, 200), ImageFormat::Jpeg);
        let cases: [(&str, &[u8], &str); 8] = [
            ("text", b"just some text\n", "is not an image"),
            (
                "html",
                b"<!doctype html><html><script>alert(1)</script></html>",
                "is not an image",
            ),
            (
                "zip",
                b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of a zip",
                "is not an image",
            ),
            ("empty", b"", "empty"),
            (
                "truncated png",
                &png[..png.len() / 2],
                "not a valid PNG image",
            ),
            ("png signature only", &png[..8], "not a valid PNG image"),
            ("truncated jpeg", &jpeg[..40], "not a valid JPG image"),
            (
                "bmp",
                b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00",
                "BMP thumbnails are not accepted",
            ),
        ];
        for (what, bytes, expected) in cases {
            let (status, message) = refused(data_url_from_upload(bytes, &policy()));
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {message}");
            assert!(message.contains(expected), "{what}: {message}");
        }
    }

    #[test]
    fn decompression_bombs_are_refused_on_their_header() {
        // Each of these would need gigabytes once decoded; the refusal names the declared
        // size, which is only known from the header, before any pixel buffer exists.
        let mut jpeg = encoded(&picture(16, 16), ImageFormat::Jpeg);
        let sof = jpeg
            .windows(2)
            .position(|marker| marker == [0xFF, 0xC0])
            .unwrap();
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]); // 60000×60000
        let mut gif = encoded(&picture(16, 16), ImageFormat::Gif);
        gif[6..10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]); // 65535×65535
        let cases = [
            ("png", png_claiming(100_000, 100_000), "100000×100000"),
            ("png, 8001 wide", png_claiming(8001, 10), "8001×10"),
            // Within 8000 per side, but 196 MB as RGBA.
            ("png, 49 megapixels", png_claiming(7000, 7000), "7000×7000"),
            ("jpeg", jpeg, "60000×60000"),
            ("gif", gif, "65535×65535"),
        ];
        for (what, bytes, dimensions) in cases {
            let started = std::time::Instant::now();
            let (status, message) = refused(data_url_from_upload(&bytes, &policy()));
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {message}");
            assert!(
                message.contains(&format!("too large to process ({dimensions} pixels)")),
                "{what}: {message}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(2),
                "{what}"
            );
        }
    }

    #[test]
    fn metadata_is_stripped() {
        // A JPEG with an EXIF segment, a PNG with a text chunk: neither survives.
        let secret = b"GPS 48.8584N 2.2945E";
        let mut jpeg = encoded(&picture(300, 200), ImageFormat::Jpeg);
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&u16::try_from(2 + 6 + secret.len()).unwrap().to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(secret);
        jpeg.splice(2..2, app1);
        let png = encoded(&translucent(300, 200), ImageFormat::Png);
        let mut text = b"Comment\0".to_vec();
        text.extend_from_slice(secret);
        let mut png_with_text = png[..33].to_vec();
        png_with_text.extend(png_chunk(b"tEXt", &text));
        png_with_text.extend_from_slice(&png[33..]);
        for upload in [jpeg, png_with_text] {
            assert!(upload.windows(secret.len()).any(|w| w == secret));
            let url = data_url_from_upload(&upload, &policy()).unwrap();
            let bytes = STANDARD.decode(url.split_once(',').unwrap().1).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret));
            assert!(!bytes.windows(4).any(|w| w == b"Exif" || w == b"tEXt"));
        }
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A phone photo taken upright: stored 200×100, EXIF orientation 6 (rotate 90°).
        let mut jpeg = encoded(&picture(200, 100), ImageFormat::Jpeg);
        let tiff: &[u8] = &[
            b'M', b'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF, first IFD at 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation (SHORT) = 6
            0, 0, 0, 0, // no next IFD
        ];
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(tiff);
        jpeg.splice(2..2, app1);
        let url = data_url_from_upload(&jpeg, &policy()).unwrap();
        assert_eq!(open(&url).1.dimensions(), (100, 200));
    }

    #[test]
    fn an_animated_gif_keeps_its_first_frame() {
        use image::codecs::gif::GifEncoder;
        use image::{Delay, Frame};

        let frame = |colour: [u8; 4]| {
            Frame::from_parts(
                RgbaImage::from_pixel(40, 40, Rgba(colour)),
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            )
        };
        let mut gif = Vec::new();
        GifEncoder::new(&mut gif)
            .encode_frames([frame([255, 0, 0, 255]), frame([0, 0, 255, 255])])
            .unwrap();
        let url = data_url_from_upload(&gif, &policy()).unwrap();
        let (mime, image) = open(&url);
        assert_eq!(mime, "image/jpeg");
        let [r, g, b] = image.to_rgb8().get_pixel(20, 20).0;
        assert!(r > 240 && g < 20 && b < 20, "{r} {g} {b}");
    }

    #[test]
    fn data_urls_are_checked_like_uploads() {
        let png = encoded(&translucent(800, 400), ImageFormat::Png);
        let url = format!("data:image/png;base64,{}", STANDARD.encode(&png));
        let checked = check_data_url(&url, &policy()).unwrap();
        let (mime, image) = open(&checked);
        assert_eq!(
            (mime.as_str(), image.dimensions()),
            ("image/png", (400, 200))
        );
        // Checking again what japps stored changes nothing that matters.
        let again = check_data_url(&checked, &policy()).unwrap();
        assert_eq!(open(&again).1.dimensions(), (400, 200));

        // The declared type does not matter, the content does (there are no file names).
        let jpeg = encoded(&picture(100, 50), ImageFormat::Jpeg);
        for header in ["data:image/png;base64,", "DATA:Image/GIF;BASE64,"] {
            let url = format!("{header}{}", STANDARD.encode(&jpeg));
            assert_eq!(
                open(&check_data_url(&url, &policy()).unwrap())
                    .1
                    .dimensions(),
                (100, 50)
            );
        }
        // Without padding, as some encoders write it.
        let url = format!(
            "data:image/jpeg;base64,{}",
            STANDARD.encode(&jpeg).trim_end_matches('=')
        );
        check_data_url(&url, &policy()).unwrap();
    }

    #[test]
    fn bad_data_urls_are_400() {
        let svg = STANDARD
            .encode(br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#);
        let png = STANDARD.encode(encoded(&picture(20, 20), ImageFormat::Png));
        let cases = [
            "https://example.org/logo.png".to_owned(),
            "/hub/static/logo.png".to_owned(),
            String::new(),
            "data:".to_owned(),
            "garbage".to_owned(),
            format!("data:image/svg+xml;base64,{svg}"),
            format!("data:image/png;base64,{svg}"),
            format!("data:text/html;base64,{png}"),
            format!("data:image/bmp;base64,{png}"),
            format!("data:image/png,{png}"),
            format!("data:image/png;charset=utf-8;base64,{png}"),
            "data:image/png;base64,not base64!".to_owned(),
            "data:image/png;base64,".to_owned(),
            format!("data:image/png;base64,{}", &png[..png.len() / 2]),
            // Nearly a default thumbnail, but not ours.
            default_thumbnail("panel").replace("base64,", "base64,AAAA"),
        ];
        for url in cases {
            let (status, message) = refused(check_data_url(&url, &policy()));
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url:.60}: {message}");
        }
        let (_, message) = refused(check_data_url(
            &format!("data:image/svg+xml;base64,{svg}"),
            &policy(),
        ));
        assert_eq!(
            message,
            "SVG thumbnails are not accepted; upload PNG, JPEG, GIF or WebP"
        );
    }

    #[test]
    fn oversized_data_urls_are_413_before_decoding() {
        let tight = ThumbnailPolicy {
            max_upload_bytes: 1000,
            ..policy()
        };
        let url = format!("data:image/png;base64,{}", "A".repeat(2000));
        let (status, message) = refused(check_data_url(&url, &tight));
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(message.contains("(1000 bytes)"), "{message}");
        // An image of exactly the limit, padding and all, passes.
        let png = encoded(&picture(30, 30), ImageFormat::Png);
        let exact = ThumbnailPolicy {
            max_upload_bytes: png.len(),
            ..policy()
        };
        let url = format!("data:image/png;base64,{}", STANDARD.encode(&png));
        check_data_url(&url, &exact).unwrap();
    }

    #[test]
    fn default_thumbnails_are_our_svg_logos() {
        for framework in japps_domain::frameworks::FRAMEWORKS {
            let url = default_thumbnail(framework.name());
            let payload = url
                .strip_prefix("data:image/svg+xml;base64,")
                .unwrap_or_else(|| panic!("{}: {url:.40}", framework.name()));
            let svg = STANDARD.decode(payload).unwrap();
            assert_eq!(Some(svg.as_slice()), catalog::logo(framework.name()));
            let text = std::str::from_utf8(&svg).unwrap();
            assert!(text.starts_with("<svg"), "{}", framework.name());
            assert!(!text.contains("<script"), "{}", framework.name());
            // Sent back unchanged on edit.
            assert_eq!(check_data_url(&url, &policy()).unwrap(), url);
        }
        assert_eq!(default_thumbnail("nonsense"), default_thumbnail("custom"));
        assert_eq!(default_thumbnail("../japps"), default_thumbnail("custom"));
        let japps = default_thumbnail("japps");
        assert_eq!(check_data_url(&japps, &policy()).unwrap(), japps);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(100), "100 bytes");
        assert_eq!(human_size(2048), "2 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5 MiB");
        assert_eq!(human_size(6_500_000), "6.2 MiB");
    }

    #[tokio::test]
    async fn decoding_waits_a_bounded_time_for_a_turn() {
        let slots = Semaphore::new(2);
        let first = turn(&slots, Duration::from_millis(50)).await.unwrap();
        let _second = turn(&slots, Duration::from_millis(50)).await.unwrap();
        let started = std::time::Instant::now();
        let Err(ApplicationError::Busy {
            detail,
            retry_after,
        }) = turn(&slots, Duration::from_millis(200)).await
        else {
            panic!("every turn is taken");
        };
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(2), "never stalls");
        assert!(detail.starts_with("Too many images"), "{detail}");
        assert_eq!(retry_after, DECODE_RETRY_AFTER);
        drop(first);
        let _third = turn(&slots, Duration::from_millis(50)).await.unwrap();
        assert!(DECODES.available_permits() >= 1, "one per core");
    }
}
