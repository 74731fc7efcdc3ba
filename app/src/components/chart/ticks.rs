//! Axis ticks at "nice" numbers (1, 2, 2.5, 5 × 10ⁿ), so that a reader can interpolate at a
//! glance, and the arithmetic of where things go on a chart. Pure functions, tested here.

/// The nice number near `range`: with `round`, the closest of 1, 2, 5, 10 × 10ⁿ; without,
/// the smallest of them not below `range` (Heckbert, "Nice numbers for graph labels").
pub fn nice_number(range: f64, round: bool) -> f64 {
    if range <= 0.0 || !range.is_finite() {
        return 1.0;
    }
    let exponent = range.log10().floor();
    let power = 10f64.powf(exponent);
    let fraction = range / power;
    let nice = if round {
        if fraction < 1.5 {
            1.0
        } else if fraction < 3.0 {
            2.0
        } else if fraction < 7.0 {
            5.0
        } else {
            10.0
        }
    } else if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// Ticks from a nice value at or below `min` to one at or above `max`, about `target` of
/// them, evenly spaced. An empty or flat range gets `0..1` (or around the single value),
/// so an axis always has somewhere to put things.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    nice_ticks_stepping(min, max, target, 0.0)
}

/// [`nice_ticks`] spaced at least `min_step` apart: an axis of counts labelled as whole
/// numbers must not get ticks at 0.5, which would print as "0, 1, 1, 2, 2".
pub fn nice_ticks_stepping(min: f64, max: f64, target: usize, min_step: f64) -> Vec<f64> {
    let (mut min, mut max) = if min.is_finite() && max.is_finite() {
        (min.min(max), min.max(max))
    } else {
        (0.0, 1.0)
    };
    if (max - min).abs() < f64::EPSILON {
        if max == 0.0 {
            max = 1.0;
        } else if max > 0.0 {
            min = min.min(0.0);
            max = max.max(min + max.abs());
        } else {
            max = 0.0;
        }
    }
    let target = target.max(2);
    let range = nice_number(max - min, false);
    let step = nice_number(range / (target - 1) as f64, true).max(min_step);
    let start = (min / step).floor() * step;
    let end = (max / step).ceil() * step;
    let count = ((end - start) / step).round() as usize;
    // Steps are 1, 2 or 5 × 10ⁿ: rounding to the step's decimals strips float noise such as
    // 0.6000000000000001, so values compare and print cleanly.
    let scale = 10f64.powi(i32::from(tick_decimals(step)));
    (0..=count)
        .map(|i| ((start + i as f64 * step) * scale).round() / scale)
        .map(|value| if value == 0.0 { 0.0 } else { value })
        .collect()
}

/// How many fraction digits the labels of ticks spaced by `step` need (0 for whole steps).
pub fn tick_decimals(step: f64) -> u8 {
    if step <= 0.0 || !step.is_finite() || step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).clamp(0.0, 6.0) as u8
    }
}

/// Maps `value` from the domain `[d0, d1]` onto `[r0, r1]` (linear); the middle of the
/// range for an empty domain.
pub fn scale(value: f64, d0: f64, d1: f64, r0: f64, r1: f64) -> f64 {
    if (d1 - d0).abs() < f64::EPSILON {
        return (r0 + r1) / 2.0;
    }
    r0 + (value - d0) / (d1 - d0) * (r1 - r0)
}

/// Show every `n`th of `count` category labels so that neighbours are at least
/// `min_spacing` apart across `width`; 1 shows them all.
pub fn label_stride(count: usize, width: f64, min_spacing: f64) -> usize {
    if count == 0 || width <= 0.0 {
        return 1;
    }
    let per_label = width / count as f64;
    ((min_spacing / per_label).ceil() as usize).max(1)
}

/// An SVG path through `points`, broken where a point is missing (`None`).
pub fn line_path(points: &[Option<(f64, f64)>]) -> String {
    let mut path = String::new();
    let mut pen_down = false;
    for point in points {
        match point {
            Some((x, y)) => {
                let command = if pen_down { 'L' } else { 'M' };
                if !path.is_empty() {
                    path.push(' ');
                }
                path.push_str(&format!("{command}{x:.1} {y:.1}"));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    path
}

/// The SVG path of a half-circle gauge arc centred at (`cx`, `cy`) with radius `r`, from the
/// left end through `fraction` (clamped to 0–1) of the half circle.
pub fn gauge_arc(cx: f64, cy: f64, r: f64, fraction: f64) -> String {
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let angle = std::f64::consts::PI * (1.0 - fraction);
    let (x, y) = (cx + r * angle.cos(), cy - r * angle.sin());
    format!("M{:.1} {cy:.1} A{r:.1} {r:.1} 0 0 1 {x:.1} {y:.1}", cx - r)
}

/// The running totals of stacked series at one category: for each series the (bottom, top)
/// of its segment; missing values add nothing.
pub fn stack(values: &[Option<f64>]) -> Vec<(f64, f64)> {
    let mut base = 0.0;
    values
        .iter()
        .map(|value| {
            let bottom = base;
            base += value.unwrap_or(0.0).max(0.0);
            (bottom, base)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_numbers_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_number(0.7, true), 0.5);
        assert_eq!(nice_number(2.6, true), 2.0);
        assert_eq!(nice_number(3.4, false), 5.0);
        assert_eq!(nice_number(87.0, false), 100.0);
        assert_eq!(nice_number(140.0, true), 100.0);
        assert_eq!(nice_number(0.0, true), 1.0);
    }

    #[test]
    fn ticks_cover_the_range_with_round_steps() {
        assert_eq!(
            nice_ticks(0.0, 87.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(0.0, 4.0, 5), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        // Counts: whole steps even when the largest count is tiny.
        assert_eq!(nice_ticks(0.0, 2.0, 5), vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(nice_ticks_stepping(0.0, 2.0, 5, 1.0), vec![0.0, 1.0, 2.0]);
        assert_eq!(nice_ticks_stepping(0.0, 0.0, 5, 1.0), vec![0.0, 1.0]);
        assert_eq!(
            nice_ticks_stepping(0.0, 87.0, 5, 1.0),
            nice_ticks(0.0, 87.0, 5)
        );
        let ticks = nice_ticks(3.2, 4.4, 5);
        assert!(
            ticks[0] <= 3.2 && *ticks.last().unwrap_or(&0.0) >= 4.4,
            "{ticks:?}"
        );
        assert_eq!(ticks, vec![3.0, 3.5, 4.0, 4.5]);
    }

    #[test]
    fn empty_and_flat_ranges_still_get_an_axis() {
        assert_eq!(nice_ticks(0.0, 0.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let flat = nice_ticks(7.0, 7.0, 5);
        assert_eq!(flat.first(), Some(&0.0));
        assert!(flat.last().is_some_and(|max| *max >= 7.0));
        assert_eq!(nice_ticks(f64::NAN, 3.0, 5).first(), Some(&0.0));
        let negative = nice_ticks(-5.0, -5.0, 5);
        assert!(negative.first().is_some_and(|min| *min <= -5.0));
        assert_eq!(negative.last(), Some(&0.0));
    }

    #[test]
    fn tick_labels_get_the_digits_their_step_needs() {
        assert_eq!(tick_decimals(20.0), 0);
        assert_eq!(tick_decimals(1.0), 0);
        assert_eq!(tick_decimals(0.2), 1);
        assert_eq!(tick_decimals(0.05), 2);
    }

    #[test]
    fn values_map_linearly_and_empty_domains_centre() {
        assert_eq!(scale(5.0, 0.0, 10.0, 200.0, 0.0), 100.0);
        assert_eq!(scale(0.0, 0.0, 10.0, 200.0, 0.0), 200.0);
        assert_eq!(scale(3.0, 3.0, 3.0, 0.0, 10.0), 5.0);
    }

    #[test]
    fn crowded_labels_are_thinned() {
        assert_eq!(label_stride(24, 600.0, 48.0), 2);
        assert_eq!(label_stride(7, 600.0, 48.0), 1);
        assert_eq!(label_stride(30, 300.0, 48.0), 5);
        assert_eq!(label_stride(0, 300.0, 48.0), 1);
    }

    #[test]
    fn lines_break_at_missing_points() {
        assert_eq!(line_path(&[]), "");
        assert_eq!(
            line_path(&[Some((0.0, 10.0)), Some((5.0, 2.5)), None, Some((15.0, 1.0))]),
            "M0.0 10.0 L5.0 2.5 M15.0 1.0"
        );
    }

    #[test]
    fn gauge_arcs_sweep_the_upper_half_circle() {
        assert_eq!(
            gauge_arc(100.0, 100.0, 80.0, 0.0),
            "M20.0 100.0 A80.0 80.0 0 0 1 20.0 100.0"
        );
        assert_eq!(
            gauge_arc(100.0, 100.0, 80.0, 0.5),
            "M20.0 100.0 A80.0 80.0 0 0 1 100.0 20.0"
        );
        assert_eq!(
            gauge_arc(100.0, 100.0, 80.0, 2.0),
            "M20.0 100.0 A80.0 80.0 0 0 1 180.0 100.0"
        );
    }

    #[test]
    fn stacks_accumulate_and_skip_missing_values() {
        assert_eq!(
            stack(&[Some(2.0), None, Some(3.0)]),
            vec![(0.0, 2.0), (2.0, 2.0), (2.0, 5.0)]
        );
    }
}
