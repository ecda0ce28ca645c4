//! Figures as SVG and PNG, drawn with plotters (no system fonts: the text uses DejaVu Sans,
//! embedded from `assets/fonts/`, through plotters' `ab_glyph` renderer).
//!
//! - `figure4_<dataset>`: the paper's Figure 4 for one dataset: over epochs, the mean held-out
//!   log-likelihood (left) and reward (right) of winning (solid) and losing (dashed) outputs,
//!   for the objectives of kind `apo_zero`, `apo_down` and `dpo` the grid has. Epoch 0 is the
//!   reference model (log-likelihoods of the reference, rewards 0).
//! - `scores_<dataset>`: benchmark score over epochs for every objective, from the base model's
//!   score at epoch 0.
//!
//! With several seeds a point is the mean over the seeds evaluated at that epoch.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::collect::{Collected, EvalPoint, HeldoutPoint, RunData};
use crate::objective::ObjectiveKind;

/// The kinds Figure 4 shows (the paper's three).
pub const FIGURE4_KINDS: [ObjectiveKind; 3] = [ObjectiveKind::ApoZero, ObjectiveKind::ApoDown, ObjectiveKind::Dpo];

const SIZE: (u32, u32) = (1000, 420);
const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// One line of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// Index into the palette; `None`: gray (the base model's reference line).
    pub color: Option<usize>,
    pub dashed: bool,
    /// `(epoch, value)`, sorted by epoch.
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// A figure: panels side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem, e.g. `figure4_clair`.
    pub name: String,
    pub panels: Vec<Panel>,
}

/// A rendered figure.
pub struct Rendered {
    pub svg: String,
    pub png: Vec<u8>,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// A dataset name as a file-name part.
pub fn file_part(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Mean over seeds per epoch of `f`, for the runs of one (dataset, objective).
fn per_epoch(
    runs: &[&RunData],
    epoch0: Option<&dyn Fn(&RunData) -> Option<f64>>,
    f: &dyn Fn(&EvalPoint) -> Option<f64>,
) -> Vec<(f64, f64)> {
    let mut sums: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    for run in runs {
        if run.evals.is_empty() {
            continue;
        }
        if let Some(v) = epoch0.and_then(|g| g(run)).filter(|v| v.is_finite()) {
            let s = sums.entry(0).or_default();
            *s = (s.0 + v, s.1 + 1);
        }
        for e in run.evals.iter().filter(|e| e.epoch >= 1) {
            // A diverged run's NaN or infinite values are left out rather than drawn.
            if let Some(v) = f(e).filter(|v| v.is_finite()) {
                let s = sums.entry(e.epoch).or_default();
                *s = (s.0 + v, s.1 + 1);
            }
        }
    }
    sums.into_iter().map(|(e, (s, n))| (e as f64, s / n as f64)).collect()
}

/// `(dataset, objective) -> runs`, in the order the collection lists them.
fn cells(c: &Collected) -> Vec<(String, String, ObjectiveKind, Vec<&RunData>)> {
    let mut out: Vec<(String, String, ObjectiveKind, Vec<&RunData>)> = Vec::new();
    for r in &c.runs {
        match out.iter_mut().find(|(d, o, _, _)| d == &r.dataset && o == &r.objective) {
            Some(cell) => cell.3.push(r),
            None => out.push((r.dataset.clone(), r.objective.clone(), r.kind, vec![r])),
        }
    }
    out
}

/// The figures the collection has data for (a dataset with no evaluated run has none).
pub fn figures(c: &Collected) -> Vec<Figure> {
    let cells = cells(c);
    let mut figures = Vec::new();
    for d in &c.datasets {
        let mine: Vec<_> = cells.iter().filter(|(ds, ..)| ds == &d.name).collect();
        // Figure 4.
        let (mut logps, mut rewards) = (Vec::new(), Vec::new());
        let fig4: Vec<_> = mine.iter().filter(|(_, _, kind, _)| FIGURE4_KINDS.contains(kind)).collect();
        for (i, (_, objective, _, runs)) in fig4.iter().enumerate() {
            let add = |panel: &mut Vec<Series>,
                       which: &str,
                       dashed: bool,
                       at0: &dyn Fn(&RunData) -> Option<f64>,
                       pick: &dyn Fn(&HeldoutPoint) -> f64| {
                let points = per_epoch(runs, Some(at0), &|e| e.heldout.as_ref().map(pick));
                if points.iter().any(|(e, _)| *e >= 1.0) {
                    panel.push(Series { label: format!("{objective} {which}"), color: Some(i), dashed, points });
                }
            };
            add(&mut logps, "winning", false, &|r| r.reference_heldout.map(|x| x.0), &|h| h.chosen_logps);
            add(&mut logps, "losing", true, &|r| r.reference_heldout.map(|x| x.1), &|h| h.rejected_logps);
            add(&mut rewards, "winning", false, &|r| r.reference_heldout.map(|_| 0.0), &|h| h.chosen_reward);
            add(&mut rewards, "losing", true, &|r| r.reference_heldout.map(|_| 0.0), &|h| h.rejected_reward);
        }
        if !logps.is_empty() {
            figures.push(Figure {
                name: format!("figure4_{}", file_part(&d.name)),
                panels: vec![
                    Panel {
                        title: format!("{}: held-out log-likelihood", d.name),
                        y_label: "mean log p(y|x)".into(),
                        series: logps,
                    },
                    Panel {
                        title: format!("{}: held-out reward", d.name),
                        y_label: "mean reward".into(),
                        series: rewards,
                    },
                ],
            });
        }
        // Score over epochs.
        let mut scores = Vec::new();
        let base = c.base.as_ref().map(|b| b.score);
        for (i, (_, objective, _, runs)) in mine.iter().enumerate() {
            let at0 = move |_: &RunData| base;
            let points = per_epoch(runs, Some(&at0), &|e| Some(e.score));
            if points.iter().any(|(e, _)| *e >= 1.0) {
                scores.push(Series { label: objective.clone(), color: Some(i), dashed: false, points });
            }
        }
        if let (false, Some(b)) = (scores.is_empty(), base) {
            let last = scores.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(1.0, f64::max);
            scores.push(Series {
                label: "base model".into(),
                color: None,
                dashed: true,
                points: vec![(0.0, b), (last, b)],
            });
        }
        if !scores.is_empty() {
            figures.push(Figure {
                name: format!("scores_{}", file_part(&d.name)),
                panels: vec![Panel {
                    title: format!("{}: benchmark score", d.name),
                    y_label: "score %".into(),
                    series: scores,
                }],
            });
        }
    }
    figures
}

/// Registers the embedded font with plotters once per process.
fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS)
            .map_err(|_| "the embedded DejaVu Sans font could not be parsed".to_string())
    })
    .clone()
}

/// Draws a figure as SVG text and PNG bytes.
pub fn render(fig: &Figure) -> Result<Rendered, String> {
    register_font()?;
    let (w, h) = (SIZE.0, SIZE.1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(&root, fig).map_err(|e| format!("{}: {e}", fig.name))?;
        root.present().map_err(|e| format!("{}: {e}", fig.name))?;
    }
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root, fig).map_err(|e| format!("{}: {e}", fig.name))?;
        root.present().map_err(|e| format!("{}: {e}", fig.name))?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| format!("{}: PNG: {e}", fig.name))?;
        writer.write_image_data(&rgb).map_err(|e| format!("{}: PNG: {e}", fig.name))?;
    }
    Ok(Rendered { svg, png: png_bytes })
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, fig.panels.len().max(1)));
    for (area, panel) in areas.iter().zip(&fig.panels) {
        draw_panel(area, panel)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult<DB> {
    let xs = panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys: Vec<f64> =
        panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|y| y.is_finite()).collect();
    let x_max = xs.fold(1.0f64, f64::max);
    let (mut y0, mut y1) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(*y), b.max(*y)));
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = if y1 > y0 { (y1 - y0) * 0.08 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, (y0 - pad)..(y1 + pad))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(&panel.y_label)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .x_labels((x_max as usize + 1).clamp(2, 19))
        // Epochs are whole numbers: no label on a tick between two of them.
        .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-6 { format!("{x:.0}") } else { String::new() })
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;
    for s in &panel.series {
        let style = match s.color {
            Some(i) => PALETTE[i % PALETTE.len()].stroke_width(2),
            None => RGBColor(128, 128, 128).stroke_width(1),
        };
        if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(s.points.clone(), 6, 4, style))?
                .label(&s.label)
                .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 22, y)], 6, 4, style));
        } else {
            chart
                .draw_series(LineSeries::new(s.points.clone(), style))?
                .label(&s.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
        }
        if s.color.is_some() {
            chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, style.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .position(legend_corner(panel, x_max, (y0 - pad, y1 + pad)))
        .draw()?;
    Ok(())
}

/// The corner where the legend box covers the fewest points of the drawn lines (sampled
/// along each segment), in plot coordinates scaled to 0..1.
fn legend_corner(panel: &Panel, x_max: f64, (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let (w, h) = (0.4, (0.07 * panel.series.len() as f64 + 0.04).min(0.9));
    let norm = |(x, y): (f64, f64)| (x / x_max.max(1e-9), (y - y0) / (y1 - y0).max(1e-12));
    let mut samples = Vec::new();
    for s in &panel.series {
        for pair in s.points.windows(2) {
            let (a, b) = (norm(pair[0]), norm(pair[1]));
            samples.extend((0..=50).map(|k| {
                let t = k as f64 / 50.0;
                (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
            }));
        }
        samples.extend(s.points.iter().map(|p| norm(*p)));
    }
    // Preferred order on ties: lower right, lower left, upper right, upper left.
    let corners = [
        (SeriesLabelPosition::LowerRight, (1.0 - w, 0.0)),
        (SeriesLabelPosition::LowerLeft, (0.0, 0.0)),
        (SeriesLabelPosition::UpperRight, (1.0 - w, 1.0 - h)),
        (SeriesLabelPosition::UpperLeft, (0.0, 1.0 - h)),
    ];
    let covered = |(cx, cy): (f64, f64)| {
        samples.iter().filter(|(x, y)| *x >= cx && *x <= cx + w && *y >= cy && *y <= cy + h).count()
    };
    let mut best = 0;
    for i in 1..corners.len() {
        if covered(corners[i].1) < covered(corners[best].1) {
            best = i;
        }
    }
    corners[best].0.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table2::tests::{collected, run, unbuilt};

    fn heldout(run: &mut RunData) {
        for (i, e) in run.evals.iter_mut().enumerate() {
            let k = i as f64 + 1.0;
            e.heldout = Some(HeldoutPoint {
                pairs: 5,
                chosen_logps: -100.0 + k,
                rejected_logps: -120.0 - k,
                chosen_reward: 0.1 * k,
                rejected_reward: -0.2 * k,
            });
        }
        run.reference_heldout = Some((-100.0, -120.0));
    }

    #[test]
    fn figure4_has_the_paper_objectives_and_starts_at_the_reference() {
        let mut a = run("clair", "apo_zero", 0, &[41.0, 42.0]);
        let mut s = run("clair", "sft", 0, &[41.0, 42.0]);
        heldout(&mut a);
        heldout(&mut s);
        let mut c = collected(vec![0], vec![a, s, run("offp", "dpo", 0, &[])]);
        c.datasets = vec![unbuilt("clair"), unbuilt("offp")];
        let figs = figures(&c);
        let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["figure4_clair", "scores_clair"]);
        let logps = &figs[0].panels[0];
        assert_eq!(logps.series.len(), 2, "apo_zero winning and losing; sft is not in Figure 4");
        assert_eq!(logps.series[0].points, vec![(0.0, -100.0), (1.0, -99.0), (2.0, -98.0)]);
        assert!(logps.series[1].dashed);
        assert_eq!(figs[0].panels[1].series[1].points, vec![(0.0, 0.0), (1.0, -0.2), (2.0, -0.4)]);
        assert_eq!(figs[1].panels[0].series.len(), 3, "apo_zero, sft and the base line");
        assert_eq!(figs[1].panels[0].series[2].points, vec![(0.0, 40.0), (2.0, 40.0)]);
        assert_eq!(figs[1].panels[0].series[0].points, vec![(0.0, 40.0), (1.0, 41.0), (2.0, 42.0)]);
    }

    #[test]
    fn seeds_average_per_epoch() {
        let c = collected(vec![1, 2], vec![run("clair", "dpo", 1, &[41.0, 43.0]), run("clair", "dpo", 2, &[45.0])]);
        let runs: Vec<&RunData> = c.runs.iter().collect();
        assert_eq!(per_epoch(&runs, None, &|e| Some(e.score)), vec![(1.0, 43.0), (2.0, 43.0)]);
        let nan = |e: &EvalPoint| Some(if e.epoch == 2 { f64::NAN } else { e.score });
        assert_eq!(per_epoch(&runs, None, &nan), vec![(1.0, 43.0)], "a diverged value is not drawn");
    }

    #[test]
    fn renders_svg_and_png() {
        let fig = Figure {
            name: "t".into(),
            panels: vec![Panel {
                title: "clair: test".into(),
                y_label: "score %".into(),
                series: vec![
                    Series {
                        label: "dpo".into(),
                        color: Some(0),
                        dashed: false,
                        points: vec![(0.0, 40.0), (1.0, 43.0)],
                    },
                    Series {
                        label: "apo_zero".into(),
                        color: None,
                        dashed: true,
                        points: vec![(0.0, 40.0), (1.0, 38.0)],
                    },
                ],
            }],
        };
        let r = render(&fig).unwrap();
        assert!(r.svg.starts_with("<svg") && r.svg.contains("clair: test") && r.svg.contains("apo_zero"));
        assert_eq!(&r.png[1..4], b"PNG");
        // A flat series (one value) still renders.
        let flat =
            Figure { name: "f".into(), panels: vec![Panel { title: "x".into(), y_label: "y".into(), series: vec![] }] };
        assert!(render(&flat).is_ok());
    }
}
