//! The roster reader on real bytes: each encoding a council's office may
//! save a CSV in, XLSX workbooks written by a spreadsheet library, and every
//! refusal with its row and column.

use super::*;
use rust_xlsxwriter::{Format, Workbook};

const ROSTER: &str = "Số ghế,Họ và tên,Tổ đại biểu,Chức vụ\r\n\
    1,Nguyễn Văn An,Tổ 1,Chủ tịch\r\n\
    2,Trần Thị Bình,Tổ 1,\r\n\
    3,Lê Thị Hương Giang,Tổ 2,Phó Chủ tịch\r\n";

fn expected() -> Vec<RosterSeat> {
    let seat = |number, name: &str, group: &str, title: &str| RosterSeat {
        number,
        name: name.into(),
        group: group.into(),
        title: title.into(),
    };
    vec![
        seat(1, "Nguyễn Văn An", "Tổ 1", "Chủ tịch"),
        seat(2, "Trần Thị Bình", "Tổ 1", ""),
        seat(3, "Lê Thị Hương Giang", "Tổ 2", "Phó Chủ tịch"),
    ]
}

/// `text` as Windows-1258 writes it: the vowel's shape precomposed (ê, ơ,
/// ư, ă, â, ô) and its tone as a combining mark after it, which is how that
/// code page holds Vietnamese.
fn windows_1258(text: &str) -> Vec<u8> {
    const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
    let mut out = String::new();
    for c in text.chars() {
        let parts: String = c.nfd().collect();
        let tones: String = parts.chars().filter(|p| TONES.contains(p)).collect();
        let shape: String = parts.chars().filter(|p| !TONES.contains(p)).nfc().collect();
        out.push_str(&shape);
        out.push_str(&tones);
    }
    let (bytes, _, unmappable) = WINDOWS_1258.encode(&out);
    assert!(!unmappable, "{text:?} fits Windows-1258");
    bytes.into_owned()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn csv(bytes: &[u8], encoding: CsvEncoding) -> Result<Vec<RosterSeat>, Vec<Problem>> {
    read(bytes, Sheet::Csv(encoding), 3)
}

fn problems(result: Result<Vec<RosterSeat>, Vec<Problem>>) -> Vec<(usize, Option<String>, String)> {
    result
        .expect_err("the roster should be refused")
        .into_iter()
        .map(|p| (p.row, p.column, p.message))
        .collect()
}

#[test]
fn every_encoding_an_office_saves_in_reads_as_the_same_names() {
    let utf8 = ROSTER.as_bytes().to_vec();
    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend_from_slice(&utf8);
    let legacy = windows_1258(ROSTER);
    assert!(
        std::str::from_utf8(&legacy).is_err(),
        "real Windows-1258 bytes"
    );
    for (what, bytes, encoding) in [
        ("UTF-8", &utf8, CsvEncoding::Auto),
        ("UTF-8 with BOM", &with_bom, CsvEncoding::Auto),
        (
            "UTF-16 with BOM",
            &utf16le_with_bom(ROSTER),
            CsvEncoding::Auto,
        ),
        ("Windows-1258, detected", &legacy, CsvEncoding::Auto),
        ("Windows-1258, chosen", &legacy, CsvEncoding::Windows1258),
    ] {
        assert_eq!(csv(bytes, encoding), Ok(expected()), "{what}");
    }
    // Semicolons, as Excel writes them where "," is the decimal point.
    let semicolons = ROSTER.replace(',', ";");
    assert_eq!(
        csv(semicolons.as_bytes(), CsvEncoding::Utf8),
        Ok(expected())
    );
}

fn utf16_without_bom(text: &str, big_endian: bool) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

#[test]
fn utf16_without_a_mark_is_read_or_refused_by_name() {
    for big_endian in [false, true] {
        let bytes = utf16_without_bom(ROSTER, big_endian);
        assert_eq!(csv(&bytes, CsvEncoding::Auto), Ok(expected()));
        assert_eq!(csv(&bytes, CsvEncoding::Utf16), Ok(expected()));
        assert_eq!(
            problems(csv(&bytes, CsvEncoding::Utf8)),
            [(
                0,
                None,
                "the file is UTF-16 (every other byte is zero): choose UTF-16 (or automatic)"
                    .into()
            )]
        );
    }
    assert!(
        problems(csv(ROSTER.as_bytes(), CsvEncoding::Utf16))[0]
            .2
            .starts_with("the file is not UTF-16")
    );
}

#[test]
fn a_wrong_encoding_is_refused_where_it_shows() {
    assert_eq!(
        problems(csv(&windows_1258(ROSTER), CsvEncoding::Utf8)),
        [(
            1,
            None,
            "this row is not UTF-8: the file may be Windows-1258; choose that encoding".into()
        )]
    );
    let only_later = format!("seat,name\r\n{}", ROSTER.lines().nth(2).unwrap());
    assert_eq!(
        problems(csv(&windows_1258(&only_later), CsvEncoding::Utf8))[0].0,
        2
    );
    assert!(
        problems(csv(ROSTER.as_bytes(), CsvEncoding::Windows1258))[0]
            .2
            .contains("the file is UTF-8")
    );
}

#[test]
fn every_problem_is_named_by_row_and_column_and_nothing_is_kept() {
    let text = "seat,name,group\n1,Nguyễn Văn An,Tổ 1\n2,,Tổ 1\n1,Trần Thị Bình,Tổ 2\n7,Lê Văn Cường,\nba,Phạm Thị Dung,\n";
    assert_eq!(
        problems(csv(text.as_bytes(), CsvEncoding::Auto)),
        [
            (3, Some("B".into()), "the name is missing".into()),
            (
                4,
                Some("A".into()),
                "seat 1 is listed twice (first on row 2)".into()
            ),
            (5, Some("A".into()), "seat 7 is outside 1..3".into()),
            (6, Some("A".into()), "\"ba\" is not a seat number".into()),
            (0, None, "1 of 3 seats have no row: 3".into()),
        ]
    );
}

#[test]
fn an_empty_sheet_or_a_header_without_the_columns_is_refused() {
    assert_eq!(
        problems(csv(b"", CsvEncoding::Auto)),
        [(0, None, "the sheet is empty".into())]
    );
    assert_eq!(
        problems(csv(b"\n\nseat,name\n", CsvEncoding::Auto)),
        [(0, None, "the sheet has a header but no delegates".into())]
    );
    assert_eq!(
        problems(csv("Họ và tên,Tổ\nAn,1\n".as_bytes(), CsvEncoding::Auto)),
        [(1, None, "no seat (số ghế) column in the header row".into())]
    );
}

/// A workbook whose first sheet has `rows`, numbers as numbers, and the
/// `merged` ranges (first row, first column, last row, last column).
fn xlsx(rows: &[&[&str]], merged: &[(u32, u16, u32, u16)]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (u32::try_from(r).unwrap(), u16::try_from(c).unwrap());
            match cell.parse::<f64>() {
                Ok(n) => sheet.write_number(r, c, n).map(drop),
                Err(_) => sheet.write_string(r, c, *cell).map(drop),
            }
            .unwrap();
        }
    }
    for &(r1, c1, r2, c2) in merged {
        sheet
            .merge_range(r1, c1, r2, c2, "Tổ 1", &Format::new())
            .unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn a_workbook_is_read_from_its_first_sheet_and_merged_cells_are_refused() {
    let rows: &[&[&str]] = &[
        &["STT", "Họ và tên", "Tổ", "Chức vụ"],
        &["1", "Nguyễn Văn An", "Tổ 1", "Chủ tịch"],
        &["2", "Trần Thị Bình", "Tổ 1", ""],
        &["3", "Lê Thị Hương Giang", "Tổ 2", "Phó Chủ tịch"],
    ];
    assert_eq!(read(&xlsx(rows, &[]), Sheet::Xlsx, 3), Ok(expected()));

    let rows: &[&[&str]] = &[
        &["STT", "Họ và tên", "Tổ"],
        &["1", "Nguyễn Văn An"],
        &["2", "Trần Thị Bình"],
        &["3", "Lê Thị Hương Giang", "Tổ 2"],
    ];
    assert_eq!(
        problems(read(&xlsx(rows, &[(1, 2, 2, 2)]), Sheet::Xlsx, 3)),
        [(
            2,
            Some("C".into()),
            "merged cells (to C3): unmerge them and fill every row".into()
        )]
    );
    assert_eq!(
        problems(read(&xlsx(&[], &[]), Sheet::Xlsx, 3)),
        [(0, None, "the sheet is empty".into())]
    );
    assert!(
        problems(read(ROSTER.as_bytes(), Sheet::Xlsx, 3))[0]
            .2
            .starts_with("not an XLSX")
    );
}

#[test]
fn columns_are_lettered_as_the_spreadsheet_shows_them() {
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(25), "Z");
    assert_eq!(column_letter(26), "AA");
    assert_eq!(column_letter(27), "AB");
}

#[test]
fn each_problem_goes_out_as_its_reason_with_the_values_its_words_need() {
    let text = "seat,name,group\n1,Nguyễn Văn An,Tổ 1\n1,Trần Thị Bình,Tổ 2\n7,Lê Văn Cường,\nba,Phạm Thị Dung,\n";
    let sent: Vec<serde_json::Value> = csv(text.as_bytes(), CsvEncoding::Auto)
        .expect_err("refused")
        .iter()
        .map(|p| serde_json::to_value(p).unwrap())
        .collect();
    assert_eq!(
        sent,
        [
            serde_json::json!({ "row": 3, "column": "A", "reason": "seat_twice", "seat": 1, "first_row": 2,
                "message": "seat 1 is listed twice (first on row 2)" }),
            serde_json::json!({ "row": 4, "column": "A", "reason": "seat_outside", "seat": 7, "total": 3,
                "message": "seat 7 is outside 1..3" }),
            serde_json::json!({ "row": 5, "column": "A", "reason": "not_seat_number", "value": "ba",
                "message": "\"ba\" is not a seat number" }),
            serde_json::json!({ "row": 0, "column": null, "reason": "seats_without_row", "count": 2, "total": 3,
                "seats": [2, 3], "message": "2 of 3 seats have no row: 2, 3" }),
        ]
    );
}
