//! Screenshots of the window under test, kept as PNG in `target/tmp/ui-screenshots/` for people
//! to look at.

/// Writes `screenshot` to `target/tmp/ui-screenshots/NAME`.
pub fn save_png(screenshot: &iced::window::Screenshot, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join(name)).unwrap();
    let mut encoder = png::Encoder::new(file, screenshot.size.width, screenshot.size.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&screenshot.rgba).unwrap();
}
