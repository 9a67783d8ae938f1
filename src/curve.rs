//! `curve.svg`: the evaluation return (mean ± std band) against environment steps, from `metrics.csv`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use plotters::prelude::*;

/// Read the columns `env_steps`, `eval_return_mean`, `eval_return_std` of a metrics file.
pub fn read_curve(metrics: &Path) -> Result<Vec<(f64, f64, f64)>> {
    let text = std::fs::read_to_string(metrics).with_context(|| format!("reading {}", metrics.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("metrics.csv is empty")?.split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).with_context(|| format!("no column {name}"));
    let (steps, mean, std) = (col("env_steps")?, col("eval_return_mean")?, col("eval_return_std")?);
    let mut points = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let get = |c: usize| -> Result<f64> {
            let cell = cells.get(c).with_context(|| format!("row {} is short", i + 2))?;
            cell.parse().with_context(|| format!("row {}: `{cell}` is not a number", i + 2))
        };
        points.push((get(steps)?, get(mean)?, get(std)?));
    }
    Ok(points)
}

/// Draw the learning curve of `metrics` into `out` (SVG).
pub fn plot_curve(metrics: &Path, out: &Path, title: &str) -> Result<()> {
    let points = read_curve(metrics)?;
    if points.is_empty() {
        bail!("{} has no evaluation rows yet", metrics.display());
    }
    let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let lo = points.iter().map(|p| p.1 - p.2).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.1 + p.2).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-6);
    let root = SVGBackend::new(out, (800, 500)).into_drawing_area();
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, (lo - pad)..(hi + pad))?;
        chart.configure_mesh().x_desc("environment steps").y_desc("evaluation return").draw()?;
        let band: Vec<(f64, f64)> =
            points.iter().map(|p| (p.0, p.1 + p.2)).chain(points.iter().rev().map(|p| (p.0, p.1 - p.2))).collect();
        chart.draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.2))))?;
        chart.draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), BLUE.stroke_width(2)))?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow::anyhow!("drawing {}: {e}", out.display()))
}
