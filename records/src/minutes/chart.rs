//! One round's result as an SVG bar chart, drawn for a black-and-white
//! printer: every bar is measured against all seats (its outline is the whole
//! body), each row is labelled and numbered so that no colour has to be told
//! apart, and the choices differ by fill (solid black, hatched, grey, dotted)
//! rather than by hue. A dashed mark with a white halo, visible on black and
//! white alike, shows the yes votes the rule needed.

use super::Lang;
use super::escape::escape;
use super::words::{Words, needed_mark};
use gavel_protocol::messages::Labels;
use gavel_protocol::rules::TallyResult;

const WIDTH: f64 = 620.0;
const LABEL_WIDTH: f64 = 190.0;
const BAR_X: f64 = 200.0;
const BAR_WIDTH: f64 = 290.0;
const COUNT_X: f64 = 535.0;
const TOP: f64 = 26.0;
const ROW: f64 = 24.0;
const BAR_HEIGHT: f64 = 14.0;
/// About the width of one character of the chart's 13 px text, to squeeze a
/// label that would run into its bar.
const CHAR_WIDTH: f64 = 7.2;

/// How a bar is filled.
#[derive(Clone, Copy)]
enum Fill {
    /// The outline alone: all seats.
    Outline,
    Grey,
    Black,
    Hatched,
    LightGrey,
    Dotted,
}

impl Fill {
    fn paint(self, id: &str) -> String {
        match self {
            Fill::Outline => "#fff".into(),
            Fill::Grey => "#7a7a7a".into(),
            Fill::Black => "#000".into(),
            Fill::Hatched => format!("url(#{id}-hatch)"),
            Fill::LightGrey => "#cfcfcf".into(),
            Fill::Dotted => format!("url(#{id}-dots)"),
        }
    }
}

struct Row<'a> {
    label: &'a str,
    count: u32,
    fill: Fill,
    /// The total row shows the count alone, as the hall screen does.
    percent: bool,
}

/// The chart of a closed round. `id` must be unique in the document: the
/// fill patterns are named after it.
pub fn round_chart(id: &str, result: &TallyResult, labels: &Labels, lang: Lang) -> String {
    let w = Words::of(lang);
    let c = &result.counts;
    let total = c.total_seats;
    let taking = c.taking_part();
    let rows = [
        Row {
            label: w.total_seats,
            count: total,
            fill: Fill::Outline,
            percent: false,
        },
        Row {
            label: w.taking_part,
            count: taking,
            fill: Fill::Grey,
            percent: true,
        },
        Row {
            label: &labels.yes,
            count: c.yes,
            fill: Fill::Black,
            percent: true,
        },
        Row {
            label: &labels.no,
            count: c.no,
            fill: Fill::Hatched,
            percent: true,
        },
        Row {
            label: &labels.abstain,
            count: c.abstain,
            fill: Fill::LightGrey,
            percent: true,
        },
        Row {
            label: w.not_taking_part,
            count: total.saturating_sub(taking),
            fill: Fill::Dotted,
            percent: true,
        },
    ];
    let height = TOP + ROW * rows.len() as f64;
    let scale = |n: u64| BAR_WIDTH * n.min(u64::from(total)) as f64 / f64::from(total.max(1));
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-labelledby=\"{id}-title\">\
         <title id=\"{id}-title\">{title}</title>\
         <defs>\
         <pattern id=\"{id}-hatch\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"5\" height=\"5\" fill=\"#fff\"/><rect width=\"2\" height=\"5\" fill=\"#000\"/></pattern>\
         <pattern id=\"{id}-dots\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">\
         <rect width=\"4\" height=\"4\" fill=\"#fff\"/><circle cx=\"2\" cy=\"2\" r=\"0.9\" fill=\"#000\"/></pattern>\
         </defs>",
        title = escape(w.chart_title),
    );
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let text_y = y + BAR_HEIGHT - 3.0;
        let squeeze = if row.label.chars().count() as f64 * CHAR_WIDTH > LABEL_WIDTH {
            format!(" textLength=\"{LABEL_WIDTH}\" lengthAdjust=\"spacingAndGlyphs\"")
        } else {
            String::new()
        };
        let percent = if row.percent {
            lang.percent(row.count, total)
        } else {
            String::new()
        };
        svg.push_str(&format!(
            "<g class=\"row\">\
             <text x=\"0\" y=\"{text_y}\"{squeeze}>{label}</text>\
             <rect x=\"{BAR_X}\" y=\"{y}\" width=\"{BAR_WIDTH}\" height=\"{BAR_HEIGHT}\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"0.75\"/>\
             <rect x=\"{BAR_X}\" y=\"{y}\" width=\"{bar:.1}\" height=\"{BAR_HEIGHT}\" fill=\"{paint}\" stroke=\"#000\" stroke-width=\"0.75\"/>\
             <text x=\"{COUNT_X}\" y=\"{text_y}\" text-anchor=\"end\" class=\"count\">{count}</text>\
             <text x=\"{WIDTH}\" y=\"{text_y}\" text-anchor=\"end\">{percent}</text>\
             </g>",
            label = escape(row.label),
            bar = scale(u64::from(row.count)),
            paint = row.fill.paint(id),
            count = row.count,
        ));
    }
    let x = BAR_X + scale(result.yes_needed);
    let (top, bottom) = (
        TOP - 6.0,
        TOP + ROW * (rows.len() - 1) as f64 + BAR_HEIGHT + 3.0,
    );
    let anchor = if x > BAR_X + BAR_WIDTH - 30.0 {
        "end"
    } else if x < BAR_X + 30.0 {
        "start"
    } else {
        "middle"
    };
    svg.push_str(&format!(
        "<g class=\"needed\">\
         <line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#fff\" stroke-width=\"4\"/>\
         <line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"4 2.5\"/>\
         <text x=\"{x:.1}\" y=\"{label_y}\" text-anchor=\"{anchor}\" class=\"mark\">{mark}</text>\
         </g></svg>",
        label_y = top - 6.0,
        mark = escape(&needed_mark(lang, result.yes_needed)),
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::super::tests::counts;
    use super::*;
    use gavel_protocol::rules::Rule;

    fn widths(svg: &str) -> Vec<f64> {
        svg.match_indices("width=\"")
            .map(|(at, m)| {
                let rest = &svg[at + m.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn bars_are_measured_against_all_seats_and_the_mark_sits_at_the_yes_needed() {
        let result = TallyResult::decide(Rule::MAJORITY_OF_ALL_SEATS, counts(35, 2, 1, 38));
        let svg = round_chart("r1", &result, &Labels::default(), Lang::Vi);
        // Six rows, each a full-width outline and a bar of count/40 of it.
        let bars: Vec<f64> = widths(&svg)
            .into_iter()
            .filter(|&w| w != BAR_WIDTH && w > 5.0)
            .collect();
        let expected: [f64; 5] = [38.0, 35.0, 2.0, 1.0, 2.0]
            .map(|n| format!("{:.1}", BAR_WIDTH * n / 40.0).parse().unwrap());
        assert_eq!(bars, expected);
        assert_eq!(svg.matches("<g class=\"row\">").count(), 6);
        let mark_x = BAR_X + BAR_WIDTH * 21.0 / 40.0;
        assert!(svg.contains(&format!("x1=\"{mark_x:.1}\"")), "{svg}");
        assert!(svg.contains(">Cần 21<"));
        assert!(svg.contains(">87,50%<"));
        assert!(svg.contains("url(#r1-hatch)"));
    }

    #[test]
    fn a_rule_no_count_can_meet_is_marked_at_the_end_of_the_scale() {
        let rule = Rule {
            base: gavel_protocol::Base::AllSeats,
            threshold: gavel_protocol::Threshold::Fraction {
                num: 1,
                den: 1,
                strict: true,
            },
        };
        let result = TallyResult::decide(rule, counts(40, 0, 0, 40));
        let svg = round_chart("r2", &result, &Labels::default(), Lang::En);
        let end = BAR_X + BAR_WIDTH;
        assert!(svg.contains(&format!("x1=\"{end:.1}\"")), "{svg}");
        assert!(svg.contains("text-anchor=\"end\" class=\"mark\">41 needed<"));
    }
}
