//! Be Vietnam Pro, embedded in the minutes as `data:` URLs.
//!
//! Why embed rather than name a system serif: the minutes are printed on
//! whatever computer the secretary has, often offline, and a Vietnamese
//! minute must print its stacked diacritics (ệ, ở, ữ) correctly and look the
//! same everywhere; system fonts differ from machine to machine, and some lack
//! Vietnamese. Be Vietnam Pro was made for Vietnamese, is the font of the hall
//! screen and the consoles, and its licence (SIL Open Font License,
//! `server/web/common/fonts/OFL.txt`) allows embedding it in documents. The
//! same subsets the web apps serve are used, unchanged: Vietnamese, Latin and
//! Latin Extended, regular and semibold, about 95 KB (125 KB as base64) per
//! file. A serif stays as the fallback for any character outside them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// One subset: its file and the characters it covers (as in `common/fonts.css`).
struct Subset {
    weight: u16,
    unicode_range: &'static str,
    woff2: &'static [u8],
}

const VIETNAMESE: &str = "U+0102-0103,U+0110-0111,U+0128-0129,U+0168-0169,U+01A0-01A1,U+01AF-01B0,U+0300-0301,U+0303-0304,U+0308-0309,U+0323,U+0329,U+1EA0-1EF9,U+20AB";
const LATIN_EXT: &str = "U+0100-02BA,U+02BD-02C5,U+02C7-02CC,U+02CE-02D7,U+02DD-02FF,U+0304,U+0308,U+0329,U+1D00-1DBF,U+1E00-1E9F,U+1EF2-1EFF,U+2020,U+20A0-20AB,U+20AD-20C0,U+2113,U+2C60-2C7F,U+A720-A7FF";
const LATIN: &str = "U+0000-00FF,U+0131,U+0152-0153,U+02BB-02BC,U+02C6,U+02DA,U+02DC,U+0304,U+0308,U+0329,U+2000-206F,U+20AC,U+2122,U+2191,U+2193,U+2212,U+2215,U+FEFF,U+FFFD";

macro_rules! subset {
    ($weight:literal, $range:expr, $file:literal) => {
        Subset {
            weight: $weight,
            unicode_range: $range,
            woff2: include_bytes!(concat!("../../../server/web/common/fonts/", $file)),
        }
    };
}

/// In the order of `common/fonts.css`.
const SUBSETS: [Subset; 6] = [
    subset!(
        400,
        VIETNAMESE,
        "be-vietnam-pro-vietnamese-400-normal.woff2"
    ),
    subset!(400, LATIN_EXT, "be-vietnam-pro-latin-ext-400-normal.woff2"),
    subset!(400, LATIN, "be-vietnam-pro-latin-400-normal.woff2"),
    subset!(
        600,
        VIETNAMESE,
        "be-vietnam-pro-vietnamese-600-normal.woff2"
    ),
    subset!(600, LATIN_EXT, "be-vietnam-pro-latin-ext-600-normal.woff2"),
    subset!(600, LATIN, "be-vietnam-pro-latin-600-normal.woff2"),
];

/// The `@font-face` rules, each with its font inline.
pub fn font_faces() -> String {
    let mut css = String::from(
        "/* Be Vietnam Pro: Copyright 2021 The Be Vietnam Pro Project Authors; SIL Open Font License 1.1 (http://scripts.sil.org/OFL). */\n",
    );
    for s in &SUBSETS {
        css.push_str(&format!(
            "@font-face{{font-family:'Be Vietnam Pro';font-style:normal;font-weight:{};\
             src:url(data:font/woff2;base64,{}) format('woff2');unicode-range:{};}}\n",
            s.weight,
            STANDARD.encode(s.woff2),
            s.unicode_range
        ));
    }
    css
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subset_is_a_woff2_file_and_inlined_whole() {
        for s in &SUBSETS {
            assert_eq!(&s.woff2[..4], b"wOF2");
        }
        let css = font_faces();
        assert_eq!(css.matches("@font-face").count(), 6);
        let inlined: usize = SUBSETS.iter().map(|s| s.woff2.len().div_ceil(3) * 4).sum();
        assert!(css.len() > inlined, "{} <= {inlined}", css.len());
    }
}
