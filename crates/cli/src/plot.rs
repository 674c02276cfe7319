//! `nabla plot`: a formula of one variable as a curve, of two as filled contours, with its
//! critical points marked and labelled and (with `--from`) the optimizer's path, drawn with
//! plotters to SVG, or to PNG when the file name ends in `.png`.

use crate::Formula;
use crate::cli::PlotArgs;
use crate::commands::{Failure, Output, numeric, parse, point};
use crate::glyphs::GlyphBitmap;
use crate::search::{bounds, find_critical, options, run_minimize, short};
use nabla_optim::{Classification, CriticalPoint, Objective};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// What to draw.
pub struct Plot<'a> {
    /// The formula (one or two variables).
    pub formula: &'a Formula,
    /// Its box, one `(lo, hi)` per variable.
    pub bounds: Vec<(f64, f64)>,
    /// The critical points to mark.
    pub critical: Vec<CriticalPoint>,
    /// An optimizer's iterates, from the start (drawn up to the first one outside the box).
    pub path: Vec<Vec<f64>>,
}

/// Samples along the curve of a one-variable plot.
pub const CURVE_SAMPLES: usize = 500;
/// Cells per side of a two-variable plot's grid.
pub const GRID: usize = 100;
/// Colour levels of a two-variable plot: boundaries at the grid values' quantiles, so every
/// level covers about the same area (values spanning decades still show their structure).
pub const LEVELS: usize = 12;

const FONT: &str = "sans-serif";

/// Values beyond this are not drawn (so the axes' range stays finite).
const LARGEST: f64 = 1e100;

/// Writes `plot` to `out`: PNG if its name ends in `.png` (any case), else SVG. Returns how
/// many of the path's points were drawn.
///
/// # Errors
/// plotters' message when drawing or writing the file fails.
pub fn write(plot: &Plot<'_>, out: &Path) -> Result<usize, String> {
    let png = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let size = if plot.bounds.len() == 1 {
        (800, 420)
    } else {
        (760, 680)
    };
    if png {
        let root = GlyphBitmap::new(BitMapBackend::new(out, size)).into_drawing_area();
        draw(&root, plot).map_err(|e| e.to_string())
    } else {
        let root = SVGBackend::new(out, size).into_drawing_area();
        draw(&root, plot).map_err(|e| e.to_string())
    }
}

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot<'_>,
) -> DrawResult<usize, DB> {
    root.fill(&WHITE)?;
    let drawn = if plot.bounds.len() == 1 {
        curve(root, plot)?
    } else {
        contours(root, plot)?
    };
    root.present()?;
    Ok(drawn)
}

/// The iterates up to (not including) the first outside the box.
fn inside<'p>(path: &'p [Vec<f64>], bounds: &[(f64, f64)]) -> &'p [Vec<f64>] {
    let end = path
        .iter()
        .position(|x| {
            x.iter()
                .zip(bounds)
                .any(|(x, (lo, hi))| !(lo..=hi).contains(&x))
        })
        .unwrap_or(path.len());
    &path[..end]
}

/// A critical point's label.
fn kind(p: &CriticalPoint) -> &'static str {
    match (p.classification, p.global_min) {
        (Classification::Minimum, true) => "global minimum",
        (Classification::Minimum, false) => "minimum",
        (Classification::Maximum, _) => "maximum",
        (Classification::Saddle, _) => "saddle",
        (Classification::Degenerate, _) => "degenerate",
    }
}

/// The marker colour of a classification.
fn marker(c: Classification) -> RGBColor {
    match c {
        Classification::Minimum => RGBColor(220, 30, 30),
        Classification::Maximum => RGBColor(200, 0, 200),
        Classification::Saddle => RGBColor(255, 150, 0),
        Classification::Degenerate => RGBColor(0, 200, 220),
    }
}

fn caption(f: &Formula) -> String {
    let s: String = f.source().chars().filter(|c| !c.is_control()).collect();
    let s = s.trim();
    if s.chars().count() > 90 {
        format!("{}...", s.chars().take(87).collect::<String>())
    } else {
        s.to_string()
    }
}

/// matplotlib's viridis at `t` in `[0, 1]` (dark purple to yellow), linear between eight of its
/// colours (plotters' own colormaps feature does not build without its full palette).
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 8] = [
        (68, 1, 84),
        (70, 50, 127),
        (54, 92, 141),
        (39, 127, 143),
        (31, 162, 136),
        (74, 194, 110),
        (160, 219, 57),
        (254, 232, 37),
    ];
    let s = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (s.floor() as usize).min(STOPS.len() - 2);
    let u = s - k as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + u * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// `lo..hi` padded by `pad` of its width (±1 around a single value).
fn padded(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return (-1.0, 1.0);
    }
    if hi - lo <= 1e-12 * lo.abs().max(hi.abs()).max(1e-300) {
        return (lo - lo.abs().max(1.0), hi + hi.abs().max(1.0));
    }
    let w = hi - lo;
    (lo - pad * w, hi + pad * w)
}

/// One variable: the curve (broken where it is not finite), the critical points marked and
/// labelled, the path on the curve.
fn curve<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot<'_>,
) -> DrawResult<usize, DB> {
    let f = plot.formula;
    let objective = crate::search::objective(f);
    let (lo, hi) = plot.bounds[0];
    let xs: Vec<f64> = (0..CURVE_SAMPLES)
        .map(|i| lo + (hi - lo) * i as f64 / (CURVE_SAMPLES - 1) as f64)
        .collect();
    let drawable = |y: f64| y.is_finite() && y.abs() <= LARGEST;
    let ys: Vec<f64> = xs.iter().map(|&x| objective.value(&[x])).collect();
    let path = inside(&plot.path, &plot.bounds);
    let path: Vec<(f64, f64)> = path
        .iter()
        .map(|x| (x[0], objective.value(x)))
        .filter(|&(_, y)| drawable(y))
        .collect();
    let values = ys
        .iter()
        .copied()
        .chain(plot.critical.iter().map(|p| p.value))
        .chain(path.iter().map(|p| p.1))
        .filter(|&y| drawable(y));
    let (ylo, yhi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let (ylo, yhi) = padded(ylo, yhi, 0.12);
    let variable = &f.variables()[0];
    let mut chart = ChartBuilder::on(root)
        .caption(format!("f({variable}) = {}", caption(f)), (FONT, 18))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(lo..hi, ylo..yhi)?;
    chart
        .configure_mesh()
        .x_desc(variable.as_str())
        .y_desc(format!("f({variable})"))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    // The curve, one line per run of drawable values.
    let blue = RGBColor(31, 119, 180);
    let mut labelled = false;
    let mut run: Vec<(f64, f64)> = Vec::new();
    for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
        if drawable(y) {
            run.push((x, y));
        }
        if (!drawable(y) || i + 1 == xs.len()) && !run.is_empty() {
            let series = chart.draw_series(LineSeries::new(run.drain(..), blue.stroke_width(2)))?;
            if !labelled {
                series
                    .label(format!("f({variable})"))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2))
                    });
                labelled = true;
            }
        }
    }
    // The path, under the markers.
    if path.len() > 1 {
        chart.draw_series(LineSeries::new(path.iter().copied(), BLACK.stroke_width(1)))?;
    }
    if let Some(&start) = path.first() {
        chart.draw_series(std::iter::once(
            EmptyElement::at(start)
                + Cross::new((0, 0), 5, BLACK.stroke_width(2))
                + Text::new("start", (6, 4), (FONT, 13)),
        ))?;
    }
    chart.draw_series(plot.critical.iter().filter(|p| drawable(p.value)).map(|p| {
        let label = format!("{} ({}, {})", kind(p), short(p.x[0]), short(p.value));
        EmptyElement::at((p.x[0], p.value))
            + Circle::new((0, 0), 5, marker(p.classification).filled())
            + Text::new(label, (-30, -22), (FONT, 13))
    }))?;
    if labelled {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, 13))
            .draw()?;
    }
    Ok(path.len())
}

/// Two variables: filled contours (cells coloured by quantile level), the critical points
/// marked and labelled, the path on top.
fn contours<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot<'_>,
) -> DrawResult<usize, DB> {
    let f = plot.formula;
    let objective = crate::search::objective(f);
    let [(x0, x1), (y0, y1)] = [plot.bounds[0], plot.bounds[1]];
    let (dx, dy) = ((x1 - x0) / GRID as f64, (y1 - y0) / GRID as f64);
    let values: Vec<f64> = (0..GRID * GRID)
        .map(|k| {
            let (i, j) = (k % GRID, k / GRID);
            let v = objective.value(&[x0 + (i as f64 + 0.5) * dx, y0 + (j as f64 + 0.5) * dy]);
            if v.is_finite() { v } else { f64::NAN }
        })
        .collect();
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let mut boundaries: Vec<f64> = (1..LEVELS)
        .filter_map(|k| sorted.get(k * sorted.len() / LEVELS).copied())
        .collect();
    boundaries.dedup();
    let level = |v: f64| (!v.is_nan()).then(|| boundaries.partition_point(|&b| b <= v));
    let colour = |l: usize| viridis(l as f64 / boundaries.len().max(1) as f64);
    let (vx, vy) = (&f.variables()[0], &f.variables()[1]);
    let mut chart = ChartBuilder::on(root)
        .caption(format!("f({vx}, {vy}) = {}", caption(f)), (FONT, 18))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    // Each row's runs of one level as one rectangle (a few hundred instead of 10,000).
    let mut cells = Vec::new();
    for j in 0..GRID {
        let mut i = 0;
        while i < GRID {
            let l = level(values[j * GRID + i]);
            let mut end = i + 1;
            while end < GRID && level(values[j * GRID + end]) == l {
                end += 1;
            }
            let style = match l {
                Some(l) => colour(l).filled(),
                None => RGBColor(200, 200, 200).filled(),
            };
            let (ya, yb) = (y0 + j as f64 * dy, y0 + (j + 1) as f64 * dy);
            cells.push(Rectangle::new(
                [(x0 + i as f64 * dx, yb), (x0 + end as f64 * dx, ya)],
                style,
            ));
            i = end;
        }
    }
    chart.draw_series(cells)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(vx.as_str())
        .y_desc(vy.as_str())
        .draw()?;
    let path: Vec<(f64, f64)> = inside(&plot.path, &plot.bounds)
        .iter()
        .map(|x| (x[0], x[1]))
        .collect();
    if path.len() > 1 {
        chart.draw_series(LineSeries::new(path.iter().copied(), WHITE.stroke_width(2)))?;
    }
    if let Some(&start) = path.first() {
        chart.draw_series(std::iter::once(
            EmptyElement::at(start)
                + Cross::new((0, 0), 6, WHITE.stroke_width(2))
                + Text::new("start", (8, 4), (FONT, 14).into_font().color(&WHITE)),
        ))?;
    }
    let dark = |p: &CriticalPoint| level(p.value).is_none_or(|l| 2 * l < boundaries.len());
    chart.draw_series(plot.critical.iter().map(|p| {
        let text = if dark(p) { WHITE } else { BLACK };
        EmptyElement::at((p.x[0], p.x[1]))
            + Circle::new((0, 0), 5, marker(p.classification).filled())
            + Text::new(kind(p), (7, -17), (FONT, 13).into_font().color(&text))
    }))?;
    Ok(path.len())
}

/// `nabla plot`.
pub fn plot(args: &PlotArgs) -> Result<Output, Failure> {
    let f = parse(&args.formula)?;
    let n = f.variables().len();
    if !(1..=2).contains(&n) {
        return Err(Failure::Usage(format!(
            "plot draws formulas of one or two variables; this one has {n}{}",
            if n == 0 {
                String::new()
            } else {
                format!(" ({})", f.variables().join(", "))
            }
        )));
    }
    let bounds = bounds(f.variables(), &args.range)?;
    let critical = find_critical(&f, &bounds)?;
    let run = if args.from.is_empty() {
        None
    } else {
        let x0 = point(f.variables(), &args.from, "--from")?;
        f.gradient(&x0).map_err(numeric)?;
        Some(run_minimize(
            &f,
            &x0,
            args.method,
            &options(1e-8, 1000),
            false,
        ))
    };
    let path = run.as_ref().map(|r| r.path.clone()).unwrap_or_default();
    let plot = Plot {
        formula: &f,
        bounds,
        critical,
        path,
    };
    let drawn = write(&plot, &args.out)
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", args.out.display())))?;
    let mut text = format!(
        "wrote {} ({}): {} critical point{} marked\n",
        args.out.display(),
        if n == 1 {
            "the curve"
        } else {
            "filled contours"
        },
        plot.critical.len(),
        if plot.critical.len() == 1 { "" } else { "s" },
    );
    for p in &plot.critical {
        let x: Vec<String> = p.x.iter().map(|&v| short(v)).collect();
        text.push_str(&format!(
            "  ({}): f = {}, {}\n",
            x.join(", "),
            short(p.value),
            kind(p)
        ));
    }
    if let Some(run) = &run {
        let r = &run.report;
        text.push_str(&format!(
            "path: {} from ({}), {} iterations, {}; {} of its {} points drawn (inside the box)\n",
            args.method.name(),
            run.path[0]
                .iter()
                .map(|&v| short(v))
                .collect::<Vec<_>>()
                .join(", "),
            r.iterations,
            r.status.name(),
            drawn,
            run.path.len()
        ));
    }
    Ok(Output { text, code: 0 })
}
