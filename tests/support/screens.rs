//! Screenshots of the window under test, kept as PNG in `target/tmp/ui-screenshots/` for people
//! to look at.

/// Writes `screenshot` to `target/tmp/ui-screenshots/NAME`.
pub fn save_png(screenshot: &iced::window::Screenshot, name: &str) {
    save_png_to(
        screenshot,
        &std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("ui-screenshots")
            .join(name),
    );
}

/// Writes `screenshot` to `path` as a PNG (its folder made if need be).
pub fn save_png_to(screenshot: &iced::window::Screenshot, path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, screenshot.size.width, screenshot.size.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&screenshot.rgba).unwrap();
    writer.finish().unwrap();
}

use std::time::{Duration, Instant};

/// What the emulator reports on.
pub type Receiver<P> =
    iced_test::futures::futures::channel::mpsc::Receiver<iced_test::emulator::Event<P>>;

/// An emulator of `program`'s window, 1280×800, and what it reports on.
pub fn emulator<P: iced_test::program::Program + 'static>(
    program: &P,
) -> (iced_test::Emulator<P>, Receiver<P>) {
    let (sender, receiver) = iced_test::futures::futures::channel::mpsc::channel(64);
    let emulator = iced_test::Emulator::new(
        sender,
        program,
        iced_test::emulator::Mode::Immediate,
        iced::Size::new(1280.0, 800.0),
    );
    (emulator, receiver)
}

/// One line of an `.ice` script (`click "Save"`, `type tab`, `expect "…"`) as an instruction.
pub fn instruction(line: &str) -> iced_test::Instruction {
    iced_test::Ice::parse(&format!(
        "viewport: 1280x800\nmode: Immediate\n-----\n{line}\n"
    ))
    .unwrap()
    .instructions
    .remove(0)
}

/// Runs the emulator's work until `until`: Some(true) when it is ready, Some(false) when an
/// instruction failed (an expectation not met yet), None when the time is up.
pub fn pump<P: iced_test::program::Program + 'static>(
    program: &P,
    emulator: &mut iced_test::Emulator<P>,
    receiver: &mut Receiver<P>,
    until: Instant,
) -> Option<bool> {
    while Instant::now() < until {
        match receiver.try_recv() {
            Ok(iced_test::emulator::Event::Action(action)) => emulator.perform(program, action),
            Ok(iced_test::emulator::Event::Failed(_)) => return Some(false),
            Ok(iced_test::emulator::Event::Ready) => return Some(true),
            Err(e) if e.is_closed() => panic!("the emulator stopped"),
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    None
}

/// Runs the emulator's work until `until`, or until it is ready for the next instruction
/// (then true); a failed instruction panics.
pub fn pump_until<P: iced_test::program::Program + 'static>(
    program: &P,
    emulator: &mut iced_test::Emulator<P>,
    receiver: &mut Receiver<P>,
    until: Instant,
) -> bool {
    match pump(program, emulator, receiver, until) {
        Some(true) => true,
        Some(false) => panic!("an instruction failed"),
        None => false,
    }
}

/// Runs one instruction, again and again until it holds (the work behind it takes time) or
/// `patience` runs out (then a screenshot `NAME-failed.png` and a panic).
pub fn step<P: iced_test::program::Program<Theme = iced::Theme> + 'static>(
    program: &P,
    emulator: &mut iced_test::Emulator<P>,
    receiver: &mut Receiver<P>,
    line: &str,
    patience: Duration,
    name: &str,
) {
    let deadline = Instant::now() + patience;
    loop {
        emulator.run(program, instruction(line));
        match pump(
            program,
            emulator,
            receiver,
            Instant::now() + Duration::from_secs(5),
        ) {
            Some(true) => {
                // What the instruction started (a focus move, a task) runs before the next.
                let settle = Instant::now() + Duration::from_millis(150);
                while Instant::now() < settle {
                    pump(program, emulator, receiver, settle);
                }
                return;
            }
            _ if Instant::now() > deadline => {
                save_png(
                    &emulator.screenshot(program, &tern::ui::theme::light(), 1.0),
                    &format!("{name}-failed.png"),
                );
                panic!("{line}: not done within {patience:?} (see {name}-failed.png)");
            }
            _ => {
                pump(
                    program,
                    emulator,
                    receiver,
                    Instant::now() + Duration::from_millis(100),
                );
            }
        }
    }
}

/// A new emulator of `program`, booted, then driven by `lines`: each step is retried until it
/// holds, for as long as `patience` says for that line (see `step`).
pub fn drive<P: iced_test::program::Program<Theme = iced::Theme> + 'static, L: AsRef<str>>(
    program: &P,
    lines: &[L],
    patience: impl Fn(&str) -> Duration,
    name: &str,
) -> (iced_test::Emulator<P>, Receiver<P>) {
    let (mut emulator, mut receiver) = emulator(program);
    // The emulator reports ready once at its start.
    pump(
        program,
        &mut emulator,
        &mut receiver,
        Instant::now() + Duration::from_secs(5),
    );
    for line in lines {
        let line = line.as_ref();
        step(
            program,
            &mut emulator,
            &mut receiver,
            line,
            patience(line),
            name,
        );
    }
    (emulator, receiver)
}
