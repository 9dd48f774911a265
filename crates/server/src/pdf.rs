//! PDF documents with Chinese text: a CJK font found on the machine, a flow of titles,
//! headings, paragraphs and tables laid out on A4 pages, written by krilla (which subsets the
//! font and embeds it with a ToUnicode map, so the text can be searched and copied).
//!
//! The layout is deliberately small: lines break between CJK characters and at spaces, table
//! rows move whole to the next page (the header row repeated), and every page gets a footer.

use std::sync::{Arc, OnceLock};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{GlyphId, KrillaGlyph};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};
use skrifa::string::StringId;

/// Where Debian's CJK fonts live; `JIAZHENG_FONT` names another file.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// A4 in points, with 2 cm margins.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 56.7;
const FOOTER_SIZE: f32 = 8.0;
const LINE_HEIGHT: f32 = 1.45;
const CELL_INSET: f32 = 5.0;
const GRAY: (u8, u8, u8) = (120, 120, 120);
const BLACK: (u8, u8, u8) = (0, 0, 0);
const HEADER_FILL: (u8, u8, u8) = (236, 239, 242);

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("no CJK font found; install fonts-noto-cjk or set JIAZHENG_FONT")]
    NoFont,
    #[error("pdf: {0}")]
    Write(String),
}

/// A loaded font: krilla's handle for drawing, the raw data for character maps and advances.
pub struct Font {
    data: Arc<Vec<u8>>,
    index: u32,
    units_per_em: f32,
    krilla: krilla::text::Font,
}

/// One glyph of a shaped string: where its text is, which glyph, how far it advances (in em).
#[derive(Clone)]
struct Shaped {
    range: std::ops::Range<usize>,
    glyph: u32,
    advance: f32,
}

impl Font {
    /// The machine's CJK font, read once: parsing a font collection of tens of megabytes is slow.
    pub fn cjk() -> Result<&'static Font, PdfError> {
        static FONT: OnceLock<Option<Font>> = OnceLock::new();
        FONT.get_or_init(|| {
            let from_env = std::env::var("JIAZHENG_FONT").ok();
            from_env
                .iter()
                .map(String::as_str)
                .chain(FONT_CANDIDATES.iter().copied())
                .find_map(|path| std::fs::read(path).ok())
                .and_then(|data| Font::from_data(Arc::new(data)))
        })
        .as_ref()
        .ok_or(PdfError::NoFont)
    }

    /// Picks the Simplified Chinese face of a collection (Noto's holds JP, KR, SC, TC, HK).
    fn from_data(data: Arc<Vec<u8>>) -> Option<Font> {
        let faces = skrifa::raw::FileRef::new(&data).ok()?.fonts().count() as u32;
        let family = |index: u32| {
            skrifa::FontRef::from_index(&data, index)
                .ok()
                .and_then(|f| f.localized_strings(StringId::FAMILY_NAME).english_or_first())
                .map(|name| name.chars().collect::<String>())
                .unwrap_or_default()
        };
        let index = (0..faces).find(|&i| family(i).contains("CJK SC")).unwrap_or(0);
        let face = skrifa::FontRef::from_index(&data, index).ok()?;
        let units_per_em = f32::from(face.metrics(Size::unscaled(), LocationRef::default()).units_per_em);
        let krilla = krilla::text::Font::new(data.clone().into(), index)?;
        Some(Font { data, index, units_per_em, krilla })
    }

    fn shape(&self, text: &str) -> Vec<Shaped> {
        let Ok(face) = skrifa::FontRef::from_index(&self.data, self.index) else {
            return Vec::new();
        };
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(Size::unscaled(), LocationRef::default());
        text.char_indices()
            .map(|(at, c)| {
                let glyph = charmap.map(c).unwrap_or_default();
                let advance = metrics.advance_width(glyph).unwrap_or(0.0) / self.units_per_em;
                Shaped { range: at..at + c.len_utf8(), glyph: glyph.to_u32(), advance }
            })
            .collect()
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text).iter().map(|g| g.advance).sum::<f32>() * size
    }

    /// Breaks `text` into lines no wider than `width`: between CJK characters, at spaces, and
    /// inside a word only when the word alone is too wide. Closing punctuation stays with the
    /// character before it.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_width = 0.0;
            for piece in pieces(paragraph) {
                let piece_width = self.width(piece, size);
                if piece.trim().is_empty() {
                    if !line.is_empty() {
                        line.push_str(piece);
                        line_width += piece_width;
                    }
                    continue;
                }
                if line_width + piece_width > width && !line.trim().is_empty() {
                    lines.push(line.trim_end().to_string());
                    line = String::new();
                    line_width = 0.0;
                }
                if piece_width > width {
                    for c in piece.chars() {
                        let w = self.width(c.encode_utf8(&mut [0; 4]), size);
                        if line_width + w > width && !line.is_empty() {
                            lines.push(std::mem::take(&mut line));
                            line_width = 0.0;
                        }
                        line.push(c);
                        line_width += w;
                    }
                } else {
                    line.push_str(piece);
                    line_width += piece_width;
                }
            }
            lines.push(line.trim_end().to_string());
        }
        lines
    }
}

/// Characters after which a line may break on either side (CJK scripts and their punctuation).
fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Punctuation that must not begin a line.
fn is_closing(c: char) -> bool {
    "，。、；：？！）》」』”’％,.;:?!)]%".contains(c)
}

/// Punctuation that must not end a line.
fn is_opening(c: char) -> bool {
    "（《「『“‘([".contains(c)
}

/// Splits a paragraph into the pieces a line may break between: each wide character, each run
/// of other characters, each run of spaces.
fn pieces(text: &str) -> Vec<&str> {
    let mut pieces: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let boundary = match previous {
            None => false,
            Some(p) if is_closing(c) => p == ' ',
            Some(p) if is_opening(p) => false,
            Some(p) => is_wide(c) || is_wide(p) || (c == ' ') != (p == ' '),
        };
        if boundary {
            pieces.push(&text[start..at]);
            start = at;
        }
        previous = Some(c);
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// A table cell: its text and, when not the table's, its own font size.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub size: Option<f32>,
}

impl Cell {
    pub fn sized(text: impl Into<String>, size: f32) -> Self {
        Cell { text: text.into(), size: Some(size) }
    }
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Self {
        Cell { text: text.into(), size: None }
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Relative column widths.
    pub columns: Vec<f32>,
    pub header: Option<Vec<Cell>>,
    pub rows: Vec<Vec<Cell>>,
    pub size: f32,
}

#[derive(Debug, Clone)]
pub enum Block {
    /// Centred lines.
    Title {
        text: String,
        size: f32,
    },
    Heading(String),
    Paragraph {
        text: String,
        size: f32,
    },
    Table(Table),
    Gap(f32),
    /// A QR code `side` points square with a caption to its right (modules row by row).
    Qr {
        modules: Vec<bool>,
        width: usize,
        side: f32,
        caption: String,
    },
}

/// What is drawn on a page, in points from its top-left corner.
enum Mark {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        text: String,
        color: (u8, u8, u8),
    },
    Box {
        rect: Rect,
        fill: Option<(u8, u8, u8)>,
        stroke: bool,
    },
    /// A JPEG drawn to fill the rectangle.
    Jpeg {
        rect: Rect,
        bytes: Vec<u8>,
    },
}

/// Lays blocks out page by page.
struct Layout<'f> {
    font: &'f Font,
    pages: Vec<Vec<Mark>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(font: &'f Font) -> Self {
        Layout { font, pages: vec![Vec::new()], y: MARGIN }
    }

    fn bottom() -> f32 {
        PAGE_HEIGHT - MARGIN - FOOTER_SIZE * 2.5
    }

    fn content_width() -> f32 {
        PAGE_WIDTH - 2.0 * MARGIN
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > Self::bottom() && self.y > MARGIN {
            self.new_page();
        }
    }

    fn mark(&mut self, mark: Mark) {
        self.pages.last_mut().expect("a page").push(mark);
    }

    fn text_line(&mut self, x: f32, top: f32, size: f32, text: String, color: (u8, u8, u8)) {
        // The baseline sits below the line's top by the leading's half and the ascent.
        let baseline = top + size * ((LINE_HEIGHT - 1.0) / 2.0 + 0.88);
        self.mark(Mark::Text { x, baseline, size, text, color });
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Gap(points) => self.y += points,
            Block::Title { text, size } => {
                for line in self.font.wrap(text, *size, Self::content_width()) {
                    self.ensure(size * LINE_HEIGHT);
                    let x = MARGIN + (Self::content_width() - self.font.width(&line, *size)) / 2.0;
                    self.text_line(x, self.y, *size, line, BLACK);
                    self.y += size * LINE_HEIGHT;
                }
            }
            Block::Heading(text) => {
                let size = 12.5;
                // Keep a heading with at least two lines of what follows.
                self.ensure(size * LINE_HEIGHT * 2.0 + 40.0);
                self.y += 8.0;
                for line in self.font.wrap(text, size, Self::content_width()) {
                    self.text_line(MARGIN, self.y, size, line, BLACK);
                    self.y += size * LINE_HEIGHT;
                }
                self.y += 2.0;
            }
            Block::Paragraph { text, size } => {
                for line in self.font.wrap(text, *size, Self::content_width()) {
                    self.ensure(size * LINE_HEIGHT);
                    self.text_line(MARGIN, self.y, *size, line, BLACK);
                    self.y += size * LINE_HEIGHT;
                }
                self.y += 4.0;
            }
            Block::Table(table) => self.table(table),
            Block::Qr { modules, width, side, caption } => {
                self.ensure(*side + 8.0);
                let module = side / *width as f32;
                for (i, _) in modules.iter().enumerate().filter(|(_, dark)| **dark) {
                    let (row, col) = (i / width, i % width);
                    let x = MARGIN + col as f32 * module;
                    if let Some(rect) = Rect::from_xywh(x, self.y + row as f32 * module, module, module) {
                        self.mark(Mark::Box { rect, fill: Some(BLACK), stroke: false });
                    }
                }
                let size = 9.0;
                let mut top = self.y + 4.0;
                for line in self.font.wrap(caption, size, Self::content_width() - side - 12.0) {
                    self.text_line(MARGIN + side + 12.0, top, size, line, BLACK);
                    top += size * LINE_HEIGHT;
                }
                self.y += side + 8.0;
            }
        }
    }

    fn table(&mut self, table: &Table) {
        let total: f32 = table.columns.iter().sum();
        let widths: Vec<f32> = table.columns.iter().map(|c| c / total * Self::content_width()).collect();
        let laid = |cells: &[Cell]| -> (CellLines, f32) {
            let wrapped: CellLines = cells
                .iter()
                .zip(&widths)
                .map(|(cell, width)| {
                    let size = cell.size.unwrap_or(table.size);
                    (size, self.font.wrap(&cell.text, size, width - 2.0 * CELL_INSET))
                })
                .collect();
            let height =
                wrapped.iter().map(|(size, lines)| lines.len() as f32 * size * LINE_HEIGHT).fold(0.0, f32::max)
                    + 2.0 * CELL_INSET;
            (wrapped, height)
        };
        let header = table.header.as_deref().map(laid);
        let header_height = header.as_ref().map_or(0.0, |(_, h)| *h);
        let mut header_due = true;
        for row in &table.rows {
            let (mut cells, mut height) = laid(row);
            loop {
                let header_cost = if header_due { header_height } else { 0.0 };
                let room = Self::bottom() - self.y - header_cost;
                let at_top = self.y <= MARGIN;
                if height > room && !at_top && height <= Self::bottom() - MARGIN - header_height {
                    // The row fits on a fresh page: move it there whole.
                    self.new_page();
                    header_due = true;
                    continue;
                }
                // A row taller than a page is split: what fits here, the rest on the next page.
                let (now, rest) = split_row(cells, room - 2.0 * CELL_INSET);
                if now.iter().all(|(_, lines)| lines.is_empty()) && !at_top {
                    self.new_page();
                    header_due = true;
                    cells = rest;
                    continue;
                }
                if let (true, Some((header_cells, header_height))) = (header_due, &header) {
                    self.row(&widths, header_cells.clone(), *header_height, Some(HEADER_FILL));
                }
                header_due = false;
                let now_height = row_height(&now);
                self.row(&widths, now, now_height, None);
                if rest.iter().all(|(_, lines)| lines.is_empty()) {
                    break;
                }
                self.new_page();
                header_due = true;
                height = row_height(&rest);
                cells = rest;
            }
        }
        self.y += 6.0;
    }

    fn row(&mut self, widths: &[f32], cells: CellLines, height: f32, fill: Option<(u8, u8, u8)>) {
        let mut x = MARGIN;
        for ((size, lines), width) in cells.into_iter().zip(widths) {
            if let Some(rect) = Rect::from_xywh(x, self.y, *width, height) {
                self.mark(Mark::Box { rect, fill, stroke: true });
            }
            let mut top = self.y + CELL_INSET;
            for line in lines {
                self.text_line(x + CELL_INSET, top, size, line, BLACK);
                top += size * LINE_HEIGHT;
            }
            x += width;
        }
        self.y += height;
    }
}

type CellLines = Vec<(f32, Vec<String>)>;

fn row_height(cells: &CellLines) -> f32 {
    cells.iter().map(|(size, lines)| lines.len() as f32 * size * LINE_HEIGHT).fold(0.0, f32::max) + 2.0 * CELL_INSET
}

/// The lines of each cell that fit in `room` points, and the lines left over.
fn split_row(cells: CellLines, room: f32) -> (CellLines, CellLines) {
    cells
        .into_iter()
        .map(|(size, mut lines)| {
            let fit = ((room / (size * LINE_HEIGHT)).floor().max(0.0) as usize).min(lines.len());
            let rest = lines.split_off(fit);
            ((size, lines), (size, rest))
        })
        .unzip()
}

fn paint((r, g, b): (u8, u8, u8)) -> krilla::paint::Paint {
    rgb::Color::new(r, g, b).into()
}

/// Lays `blocks` out on A4 pages and writes the PDF; `footer` gives each page's footer line
/// from its number and the page count.
pub fn render(
    font: &Font,
    title: &str,
    blocks: &[Block],
    footer: impl Fn(usize, usize) -> String,
) -> Result<Vec<u8>, PdfError> {
    render_with_subject(font, title, None, blocks, footer)
}

/// As `render`, with a subject in the document's information (plain text a program can find in
/// the file without laying it out, such as a contract's number).
pub fn render_with_subject(
    font: &Font,
    title: &str,
    subject: Option<&str>,
    blocks: &[Block],
    footer: impl Fn(usize, usize) -> String,
) -> Result<Vec<u8>, PdfError> {
    let mut layout = Layout::new(font);
    for block in blocks {
        layout.block(block);
    }
    let count = layout.pages.len();
    let pages = layout
        .pages
        .into_iter()
        .enumerate()
        .map(|(number, mut marks)| {
            marks.push(Mark::Text {
                x: MARGIN,
                baseline: PAGE_HEIGHT - MARGIN + FOOTER_SIZE,
                size: FOOTER_SIZE,
                text: footer(number + 1, count),
                color: GRAY,
            });
            marks
        })
        .collect();
    write(font, title, subject, (PAGE_WIDTH, PAGE_HEIGHT), pages)
}

/// Writes pages of marks, each `size` points wide and high.
fn write(
    font: &Font,
    title: &str,
    subject: Option<&str>,
    size: (f32, f32),
    pages: Vec<Vec<Mark>>,
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    let mut metadata = krilla::metadata::Metadata::new().title(title.to_string()).language("zh-CN".to_string());
    if let Some(subject) = subject {
        metadata = metadata.description(subject.to_string());
    }
    document.set_metadata(metadata);
    let settings = PageSettings::from_wh(size.0, size.1).ok_or(PdfError::Write("page size".into()))?;
    for marks in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for mark in &marks {
            match mark {
                Mark::Box { rect, fill, stroke } => {
                    let mut path = PathBuilder::new();
                    path.push_rect(*rect);
                    let Some(path) = path.finish() else { continue };
                    surface.set_fill(fill.map(|color| Fill { paint: paint(color), ..Fill::default() }));
                    surface.set_stroke(stroke.then(|| Stroke { paint: paint(GRAY), width: 0.5, ..Stroke::default() }));
                    surface.draw_path(&path);
                }
                Mark::Jpeg { rect, bytes } => {
                    let image = krilla::image::Image::from_jpeg(bytes.clone().into(), true)
                        .map_err(|e| PdfError::Write(format!("photo: {e}")))?;
                    let size = krilla::geom::Size::from_wh(rect.width(), rect.height())
                        .ok_or(PdfError::Write("photo size".into()))?;
                    surface.push_transform(&krilla::geom::Transform::from_translate(rect.left(), rect.top()));
                    surface.draw_image(image, size);
                    surface.pop();
                }
                Mark::Text { x, baseline, size, text, color } => {
                    let glyphs: Vec<KrillaGlyph> = font
                        .shape(text)
                        .into_iter()
                        .map(|g| KrillaGlyph::new(GlyphId::new(g.glyph), g.advance, 0.0, 0.0, 0.0, g.range, None))
                        .collect();
                    surface.set_stroke(None);
                    surface.set_fill(Some(Fill {
                        paint: paint(*color),
                        opacity: NormalizedF32::ONE,
                        ..Fill::default()
                    }));
                    surface.draw_glyphs(
                        Point::from_xy(*x, *baseline),
                        &glyphs,
                        font.krilla.clone(),
                        text,
                        *size,
                        false,
                    );
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
}

/// What a service card shows: labelled lines, the colour it claims, and its QR code's modules.
pub struct CardContent {
    pub title: String,
    pub platform: String,
    /// (label, value), each printed on one line.
    pub lines: Vec<(String, String)>,
    /// The colour band and the colour's name.
    pub colour: (u8, u8, u8),
    pub photo_label: String,
    /// The worker's photo (JPEG, 3:4), printed in the photo box; without it the box says so.
    pub photo: Option<Vec<u8>>,
    pub footer: String,
    /// Dark modules of the QR code, `width` × `width`.
    pub qr: Vec<bool>,
    pub qr_width: usize,
}

/// ID-1 size: 85.6 × 54 mm, landscape.
pub const CARD_WIDTH: f32 = 85.6 / 25.4 * 72.0;
pub const CARD_HEIGHT: f32 = 54.0 / 25.4 * 72.0;
const CARD_QR: f32 = 60.0;

/// The text size at which `text` fits `width`, at most `size` (a field stays on one line).
fn fitting(font: &Font, text: &str, size: f32, width: f32) -> f32 {
    let at = font.width(text, size);
    if at <= width { size } else { (size * width / at).max(3.5) }
}

/// The card on one ID-1 page: colour band, title, photo box, one line per field, the QR code.
pub fn render_card(font: &Font, card: &CardContent) -> Result<Vec<u8>, PdfError> {
    let mut marks = Vec::new();
    let band = Rect::from_xywh(0.0, 0.0, CARD_WIDTH, 7.0).ok_or(PdfError::Write("band".into()))?;
    marks.push(Mark::Box { rect: band, fill: Some(card.colour), stroke: false });
    marks.push(Mark::Text { x: 8.0, baseline: 20.0, size: 9.0, text: card.title.clone(), color: BLACK });
    let platform_size = 5.5;
    let platform_x = CARD_WIDTH - 8.0 - font.width(&card.platform, platform_size);
    marks.push(Mark::Text {
        x: platform_x,
        baseline: 19.0,
        size: platform_size,
        text: card.platform.clone(),
        color: GRAY,
    });
    let photo = Rect::from_xywh(8.0, 27.0, 36.0, 48.0).ok_or(PdfError::Write("photo".into()))?;
    if let Some(jpeg) = &card.photo {
        marks.push(Mark::Jpeg { rect: photo, bytes: jpeg.clone() });
    } else {
        marks.push(Mark::Box { rect: photo, fill: None, stroke: true });
        let photo_size = 5.0;
        let photo_x = 8.0 + (36.0 - font.width(&card.photo_label, photo_size)) / 2.0;
        marks.push(Mark::Text {
            x: photo_x,
            baseline: 53.0,
            size: photo_size,
            text: card.photo_label.clone(),
            color: GRAY,
        });
    }
    let (label_x, value_x) = (50.0, 75.0);
    // Four modules of white around the QR code (its quiet zone) on every side.
    let value_width = CARD_WIDTH - 8.0 - CARD_QR - 9.0 - value_x;
    for (n, (label, value)) in card.lines.iter().enumerate() {
        let baseline = 33.0 + n as f32 * 11.0;
        let label_size = fitting(font, label, 5.5, value_x - label_x - 2.0);
        marks.push(Mark::Text { x: label_x, baseline, size: label_size, text: label.clone(), color: GRAY });
        let size = fitting(font, value, 6.5, value_width);
        marks.push(Mark::Text { x: value_x, baseline, size, text: value.clone(), color: BLACK });
    }
    // The QR code, a filled square per run of dark modules, with its quiet zone left white.
    let module = CARD_QR / card.qr_width.max(1) as f32;
    let (qr_x, qr_y) = (CARD_WIDTH - 8.0 - CARD_QR, 27.0);
    for row in 0..card.qr_width {
        let mut column = 0;
        while column < card.qr_width {
            if !card.qr[row * card.qr_width + column] {
                column += 1;
                continue;
            }
            let start = column;
            while column < card.qr_width && card.qr[row * card.qr_width + column] {
                column += 1;
            }
            let x = qr_x + start as f32 * module;
            let y = qr_y + row as f32 * module;
            // A hair wider than the module so that neighbouring runs leave no seam when printed.
            if let Some(rect) = Rect::from_xywh(x, y, (column - start) as f32 * module + 0.05, module + 0.05) {
                marks.push(Mark::Box { rect, fill: Some(BLACK), stroke: false });
            }
        }
    }
    let footer_size = 5.0;
    let footer_x = (CARD_WIDTH - font.width(&card.footer, footer_size)) / 2.0;
    marks.push(Mark::Text {
        x: footer_x,
        baseline: CARD_HEIGHT - 6.0,
        size: footer_size,
        text: card.footer.clone(),
        color: GRAY,
    });
    write(font, &card.title, None, (CARD_WIDTH, CARD_HEIGHT), vec![marks])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_break_between_cjk_characters_and_keep_words_and_closing_punctuation() {
        assert_eq!(
            pieces("信用报告 credit report，好。"),
            ["信", "用", "报", "告", " ", "credit", " ", "report，", "好。"]
        );
        assert_eq!(pieces("JZ-220102-000042 号"), ["JZ-220102-000042", " ", "号"]);
        assert_eq!(pieces("密钥（Ed25519）签"), ["密", "钥", "（Ed25519）", "签"]);
    }

    #[test]
    fn a_row_taller_than_a_page_continues_on_the_next_and_nothing_leaves_the_page() {
        let font = Font::cjk().expect("a CJK font: install fonts-noto-cjk");
        let tall: String = (1..=150).map(|n| format!("第{n}行")).collect::<Vec<_>>().join("\n");
        let table = Table {
            columns: vec![1.0, 2.0],
            header: Some(vec!["项目".into(), "内容".into()]),
            rows: vec![vec!["用途".into(), tall.into()], vec!["末行".into(), "最后".into()]],
            size: 10.0,
        };
        let mut layout = Layout::new(font);
        layout.block(&Block::Paragraph { text: "前文".into(), size: 10.0 });
        layout.block(&Block::Table(table));
        assert!(layout.pages.len() >= 3, "150 lines of 14.5 pt take three pages: {}", layout.pages.len());
        let mut texts = Vec::new();
        for page in &layout.pages {
            for mark in page {
                if let Mark::Text { baseline, text, .. } = mark {
                    assert!(*baseline > MARGIN && *baseline <= Layout::bottom(), "{text} at {baseline}");
                    texts.push(text.clone());
                }
            }
        }
        for n in [1, 75, 150] {
            assert_eq!(texts.iter().filter(|t| **t == format!("第{n}行")).count(), 1, "line {n} drawn once");
        }
        assert_eq!(texts.iter().filter(|t| *t == "内容").count(), layout.pages.len(), "the header on every page");
        assert!(texts.contains(&"最后".to_string()));
    }

    #[test]
    fn lines_never_exceed_the_width_and_lose_no_text() {
        let font = Font::cjk().expect("a CJK font: install fonts-noto-cjk");
        let text = "本报告经企业授权提供给上述银行。The agency consented to this release (record 42). \
                    0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        for width in [60.0, 150.0, 400.0] {
            let lines = font.wrap(text, 10.0, width);
            assert!(lines.iter().all(|l| font.width(l, 10.0) <= width + 0.01), "{lines:?} at {width}");
            let joined: String = lines.concat().chars().filter(|c| !c.is_whitespace()).collect();
            let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            assert_eq!(joined, original);
        }
    }
}
