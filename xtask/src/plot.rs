//! One plot per task: each algorithm's mean evaluation return over seeds against environment
//! steps, with its bootstrap 95% interval as a band, as SVG and PNG.
//!
//! PNG text is drawn by [`GlyphBackend`] with DejaVu Sans compiled into the binary
//! (`xtask/assets/fonts/`), so it renders on machines without fonts. It wraps plotters' bitmap
//! backend instead of turning on plotters' own font features, because features are unified
//! across the workspace: `ab_glyph` in plotters would make the `dime` binary's `curve.svg` look
//! for a registered font it does not have.

use std::path::Path;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform};

/// DejaVu Sans 2.37 (licence beside it).
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Plot size in pixels (PNG) and user units (SVG).
pub const SIZE: (u32, u32) = (900, 560);

/// One algorithm's curve: `(env_steps, mean, interval low, interval high)`.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Points in step order.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Everything drawn for one task.
#[derive(Debug, Clone)]
pub struct TaskPlot {
    /// Title above the plot.
    pub title: String,
    /// One curve per algorithm.
    pub series: Vec<Series>,
    /// A horizontal reference line: `(legend text, return)`.
    pub reference: Option<(String, f64)>,
}

/// Write `plot` as SVG to `path`.
pub fn write_svg(plot: &TaskPlot, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw(&root, plot).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))
}

/// Write `plot` as PNG (8-bit RGB) to `path`.
pub fn write_png(plot: &TaskPlot, path: &Path) -> Result<()> {
    let (w, h) = SIZE;
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let backend = GlyphBackend::new(BitMapBackend::with_buffer(&mut pixels, SIZE))?;
        let root = backend.into_drawing_area();
        draw(&root, plot).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present().map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().with_context(|| format!("writing {}", path.display()))?;
    writer.write_image_data(&pixels).with_context(|| format!("writing {}", path.display()))?;
    writer.finish().with_context(|| format!("writing {}", path.display()))
}

/// Colours of the algorithms, in legend order (Okabe–Ito, readable for colour-blind readers).
const COLOURS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, plot: &TaskPlot) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let all = plot.series.iter().flat_map(|s| &s.points);
    let x_max = all.clone().map(|p| p.0).fold(1.0, f64::max);
    let mut lo = all.clone().map(|p| p.2.min(p.1)).fold(f64::INFINITY, f64::min);
    let mut hi = all.map(|p| p.3.max(p.1)).fold(f64::NEG_INFINITY, f64::max);
    if let Some((_, r)) = plot.reference {
        (lo, hi) = (lo.min(r), hi.max(r));
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.06).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..x_max * 1.02, (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("evaluation return")
        .x_label_formatter(&|x| format_steps(*x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, series) in plot.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut band: Vec<(f64, f64)> = series.points.iter().map(|p| (p.0, p.3)).collect();
        band.extend(series.points.iter().rev().map(|p| (p.0, p.2)));
        chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.18).filled())))?;
        chart
            .draw_series(LineSeries::new(series.points.iter().map(|p| (p.0, p.1)), Color::stroke_width(&colour, 2)))?
            .label(series.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], Color::stroke_width(&colour, 2)));
    }
    if let Some((label, r)) = &plot.reference {
        let grey = RGBColor(90, 90, 90);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, *r), (x_max * 1.02, *r)],
                8,
                5,
                Color::stroke_width(&grey, 1),
            ))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], Color::stroke_width(&grey, 1)));
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}

/// `0`, `500`, `2.5k`, `1M`.
fn format_steps(x: f64) -> String {
    let trim = |v: f64| format!("{v:.1}").trim_end_matches(".0").to_string();
    match x.abs() {
        a if a >= 1e6 => format!("{}M", trim(x / 1e6)),
        a if a >= 1e3 => format!("{}k", trim(x / 1e3)),
        _ => format!("{x:.0}"),
    }
}

/// A bitmap backend whose text is laid out and rasterised with ab_glyph from the embedded font.
pub struct GlyphBackend<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> GlyphBackend<'a> {
    /// Wrap `inner`.
    pub fn new(inner: BitMapBackend<'a>) -> Result<Self> {
        let font = FontRef::try_from_slice(FONT).map_err(|e| anyhow!("the embedded font does not load: {e}"))?;
        Ok(Self { inner, font })
    }

    /// Width and height of `text` at `size` pixels, and its ascent.
    fn measure(&self, text: &str, size: f64) -> (f32, f32, f32) {
        let font = self.font.as_scaled(PxScale::from(size as f32));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        (width, font.ascent() - font.descent(), font.ascent())
    }
}

impl DrawingBackend for GlyphBackend<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        p: BackendCoord,
        c: BackendColor,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(a, b, s)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
        fill: bool,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(a, b, s, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, s)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(c, r, s, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        s: &S,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, s)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> std::result::Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h, _) = self.measure(text, style.size());
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let (width, height, ascent) = self.measure(text, style.size());
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let transform: FontTransform = style.transform();
        let scale = PxScale::from(style.size() as f32);
        let font = self.font.as_scaled(scale);
        let mut pixels = Vec::new();
        let mut x = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                x += font.kern(p, id);
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(scale, point(x + dx, ascent + dy));
            x += font.h_advance(id);
            let Some(outline) = self.font.outline_glyph(glyph) else { continue };
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let (lx, ly) = (bounds.min.x as i32 + gx as i32, bounds.min.y as i32 + gy as i32);
                pixels.push((transform.transform(lx, ly), coverage));
            });
        }
        for ((tx, ty), coverage) in pixels {
            let c = BackendColor { alpha: colour.alpha * f64::from(coverage.min(1.0)), rgb: colour.rgb };
            if c.alpha > 0.0 {
                self.inner.draw_pixel((pos.0 + tx, pos.1 + ty), c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_labels_are_short() {
        assert_eq!(format_steps(0.0), "0");
        assert_eq!(format_steps(500.0), "500");
        assert_eq!(format_steps(2500.0), "2.5k");
        assert_eq!(format_steps(15000.0), "15k");
        assert_eq!(format_steps(1_000_000.0), "1M");
    }

    #[test]
    fn png_text_puts_dark_pixels_where_the_title_is() {
        // A plot whose only text-free region would stay white: the title band must get ink.
        let plot = TaskPlot {
            title: "TITLE".into(),
            series: vec![Series { label: "a".into(), points: vec![(0.0, 1.0, 0.0, 2.0), (10.0, 3.0, 2.0, 4.0)] }],
            reference: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        write_png(&plot, &path).unwrap();
        let decoder = png::Decoder::new(std::fs::File::open(&path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), SIZE);
        let row_bytes = info.width as usize * 3;
        // The caption sits in the top 40 pixels, centred; count dark pixels there.
        let dark = (0..40)
            .flat_map(|y| (0..info.width as usize).map(move |x| (x, y)))
            .filter(|&(x, y)| buf[y * row_bytes + x * 3] < 100)
            .count();
        assert!(dark > 50, "the title left {dark} dark pixels");
    }
}
