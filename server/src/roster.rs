//! A roster from the spreadsheet a council's office keeps: CSV or XLSX, with
//! a header row naming the columns (seat, name, group, title, in Vietnamese
//! or English, in any order), one delegate a row.
//!
//! Everything is read before anything is kept: the result is every seat, or
//! every problem, each named by its row and column as the spreadsheet shows
//! them (row 1 is the header, column B is the second), never a part.
//!
//! **Encodings.** XLSX carries its own (UTF-8 inside). A CSV is whatever the
//! office's software wrote: UTF-8, UTF-8 or UTF-16 with a byte-order mark
//! (Excel's "Unicode text"), or Windows-1258, the Vietnamese code page of
//! older Windows. A byte-order mark decides; without one, bytes that are
//! UTF-8 are read as UTF-8 and others as Windows-1258, unless the caller
//! chose an encoding, in which case bytes that are not of it are refused
//! with the row where they stop being so. UTF-16 without a mark is told by
//! the zero byte in each ASCII character, which no 8-bit CSV holds. Windows-1258 writes most tone
//! marks as combining characters; names are composed (NFC) after decoding,
//! so "Nguyễn" read from either encoding is the same string.
//!
//! **Merged cells** are refused: a merged "Tổ 1" over five rows reads as
//! one delegate's group and four blanks, which is not what the office meant.

use calamine::{Data, Reader, Xlsx};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1258};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Cursor;
use unicode_normalization::UnicodeNormalization;

/// One delegate, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterSeat {
    pub number: u32,
    pub name: String,
    pub group: String,
    pub title: String,
}

/// What is wrong, and where: `row` as the spreadsheet numbers it (the header
/// is row 1; 0 for the file as a whole) and `column` as a letter (absent for
/// a whole row or the file). Sent as the row, the column, the `reason` with
/// the values its words need (the app words it in its own language), and
/// the `message` in English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub row: usize,
    pub column: Option<String>,
    #[serde(flatten)]
    pub reason: ProblemReason,
    /// The problem in English: for a log, or a program that does not word it.
    pub message: String,
}

/// Why a spreadsheet, or a row or cell of it, is not a roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ProblemReason {
    #[error("the file begins as {encoding} but is not: save it again as CSV UTF-8")]
    NotItsEncoding { encoding: String },
    #[error(
        "the file looks like {encoding} without a byte-order mark but is not: save it again as CSV UTF-8"
    )]
    BrokenUtf16 { encoding: String },
    #[error("the file is UTF-16 (every other byte is zero): choose UTF-16 (or automatic)")]
    IsUtf16,
    #[error("this row is not UTF-8: the file may be Windows-1258; choose that encoding")]
    NotUtf8,
    #[error(
        "the file is not UTF-16: it has neither a byte-order mark nor a zero in every other byte; choose automatic"
    )]
    NotUtf16,
    #[error("the file is UTF-8, not Windows-1258: choose UTF-8 (or automatic)")]
    IsUtf8,
    #[error("not a CSV row: {error}")]
    NotCsvRow { error: String },
    #[error("not an XLSX workbook that can be read: {error}")]
    NotXlsx { error: String },
    /// `end` is the merged range's last cell (`A7`).
    #[error("merged cells (to {end}): unmerge them and fill every row")]
    MergedCells { end: String },
    #[error("the workbook has no sheet")]
    NoSheet,
    #[error("the sheet is empty")]
    EmptySheet,
    /// `missing` is `seat` or `name`.
    #[error("no {} column in the header row", header_words(missing))]
    NoColumn { missing: String },
    #[error("the name is missing")]
    NameMissing,
    #[error("the seat is missing")]
    SeatMissing,
    #[error("{value:?} is not a seat number")]
    NotSeatNumber { value: String },
    #[error("seat {seat} is outside 1..{total}")]
    SeatOutside { seat: u32, total: u32 },
    #[error("seat {seat} is listed twice (first on row {first_row})")]
    SeatTwice { seat: u32, first_row: usize },
    #[error("the sheet has a header but no delegates")]
    NoDelegates,
    /// `seats` are the first ten of the `count` seats without a row.
    #[error("{}", seats_without_row(*.count, *.total, .seats))]
    SeatsWithoutRow {
        count: usize,
        total: u32,
        seats: Vec<u32>,
    },
    #[error("{value:?} is not an encoding: auto, utf-8, utf-16 or windows-1258")]
    UnknownEncoding { value: String },
    #[error("{value:?} is not a format: csv or xlsx")]
    UnknownFormat { value: String },
}

fn header_words(missing: &str) -> &'static str {
    if missing == "seat" {
        "seat (số ghế)"
    } else {
        "name (họ và tên)"
    }
}

fn seats_without_row(count: usize, total: u32, seats: &[u32]) -> String {
    let shown = seats
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let more = count.saturating_sub(seats.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("{count} of {total} seats have no row: {shown}{more}")
}

impl Problem {
    pub(crate) fn file(reason: ProblemReason) -> Problem {
        Problem::at(0, None, reason)
    }

    fn at(row: usize, column: Option<usize>, reason: ProblemReason) -> Problem {
        Problem {
            row,
            column: column.map(column_letter),
            message: reason.to_string(),
            reason,
        }
    }
}

/// How a CSV's bytes are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvEncoding {
    /// By its byte-order mark; else UTF-8 if it is, else Windows-1258.
    #[default]
    Auto,
    Utf8,
    Utf16,
    Windows1258,
}

impl CsvEncoding {
    /// `auto`, `utf-8`, `utf-16` or `windows-1258`, as the app names them.
    pub fn named(name: &str) -> Option<CsvEncoding> {
        match name {
            "auto" => Some(CsvEncoding::Auto),
            "utf-8" => Some(CsvEncoding::Utf8),
            "utf-16" => Some(CsvEncoding::Utf16),
            "windows-1258" => Some(CsvEncoding::Windows1258),
            _ => None,
        }
    }
}

/// The spreadsheet's kind, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    Csv(CsvEncoding),
    Xlsx,
}

/// Reads a roster of `total_seats` seats (every seat 1..=total once) from
/// a spreadsheet's bytes; every problem found, or the seats in order.
pub fn read(bytes: &[u8], sheet: Sheet, total_seats: u32) -> Result<Vec<RosterSeat>, Vec<Problem>> {
    let rows = match sheet {
        Sheet::Csv(encoding) => csv_rows(bytes, encoding),
        Sheet::Xlsx => xlsx_rows(bytes),
    }?;
    seats(&rows, total_seats)
}

/// A column's letter as the spreadsheet shows it: 0 is A, 26 is AA.
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(rem).expect("a letter")));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
}

/// Every byte is a character of Windows-1258, so any bytes read as it.
fn windows_1258(bytes: &[u8]) -> String {
    WINDOWS_1258
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// The row (1-based) where `bytes` stop being UTF-8.
fn row_of_bad_utf8(bytes: &[u8]) -> usize {
    let valid = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |_| bytes.len());
    bytes[..valid].iter().filter(|&&b| b == b'\n').count() + 1
}

/// UTF-16 written without a byte-order mark, told by its zero bytes: text
/// in a CSV has none, while UTF-16 has one in every ASCII character, at odd
/// offsets when little-endian and even ones when big-endian.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 2 || bytes.len() % 2 != 0 {
        return None;
    }
    let zeros_at = |parity: usize| {
        bytes
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let pairs = bytes.len() / 2;
    // Most characters of a roster (digits, separators, line ends, Latin
    // letters) are ASCII: at least a third of the pairs carry their zero.
    if odd * 3 >= pairs && even == 0 {
        Some(UTF_16LE)
    } else if even * 3 >= pairs && odd == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

fn decode(bytes: &[u8], chosen: CsvEncoding) -> Result<String, Vec<Problem>> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let body = &bytes[bom..];
        return decode_strict(encoding, body).ok_or_else(|| {
            vec![Problem::file(ProblemReason::NotItsEncoding {
                encoding: encoding.name().to_owned(),
            })]
        });
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return match chosen {
            CsvEncoding::Auto | CsvEncoding::Utf16 => {
                decode_strict(encoding, bytes).ok_or_else(|| {
                    vec![Problem::file(ProblemReason::BrokenUtf16 {
                        encoding: encoding.name().to_owned(),
                    })]
                })
            }
            CsvEncoding::Utf8 | CsvEncoding::Windows1258 => {
                Err(vec![Problem::file(ProblemReason::IsUtf16)])
            }
        };
    }
    match chosen {
        CsvEncoding::Auto => Ok(decode_strict(UTF_8, bytes).unwrap_or_else(|| windows_1258(bytes))),
        CsvEncoding::Utf8 => decode_strict(UTF_8, bytes).ok_or_else(|| {
            vec![Problem::at(
                row_of_bad_utf8(bytes),
                None,
                ProblemReason::NotUtf8,
            )]
        }),
        CsvEncoding::Utf16 => Err(vec![Problem::file(ProblemReason::NotUtf16)]),
        CsvEncoding::Windows1258 => {
            if std::str::from_utf8(bytes).is_ok() && !bytes.is_ascii() {
                return Err(vec![Problem::file(ProblemReason::IsUtf8)]);
            }
            Ok(windows_1258(bytes))
        }
    }
}

fn csv_rows(bytes: &[u8], encoding: CsvEncoding) -> Result<Vec<Vec<String>>, Vec<Problem>> {
    let text = decode(bytes, encoding)?;
    let header = text.lines().next().unwrap_or("");
    // Excel writes ";" where the decimal separator is ",", as in Vietnam.
    let delimiter = if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            vec![Problem::at(
                i + 1,
                None,
                ProblemReason::NotCsvRow {
                    error: e.to_string(),
                },
            )]
        })?;
        rows.push(record.iter().map(|cell| cell.nfc().collect()).collect());
    }
    Ok(rows)
}

/// A cell as text: whole numbers without ".0", as the sheet shows them.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().nfc().collect(),
    }
}

fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<Problem>> {
    let unreadable = |e: calamine::XlsxError| {
        vec![Problem::file(ProblemReason::NotXlsx {
            error: e.to_string(),
        })]
    };
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let merged = book
        .worksheet_merge_cells_at(0)
        .transpose()
        .map_err(unreadable)?
        .unwrap_or_default();
    if !merged.is_empty() {
        return Err(merged
            .iter()
            .map(|m| {
                let (row, column) = (m.start.0 as usize + 1, m.start.1 as usize);
                let end = format!("{}{}", column_letter(m.end.1 as usize), m.end.0 + 1);
                Problem::at(row, Some(column), ProblemReason::MergedCells { end })
            })
            .collect());
    }
    let range = match book.worksheet_range_at(0) {
        Some(range) => range.map_err(unreadable)?,
        None => return Err(vec![Problem::file(ProblemReason::NoSheet)]),
    };
    let Some((top, left)) = range.start() else {
        return Ok(Vec::new());
    };
    // Rows and columns above and left of the used range are blank.
    let mut rows = vec![Vec::new(); top as usize];
    for row in range.rows() {
        let mut cells = vec![String::new(); left as usize];
        cells.extend(row.iter().map(cell_text));
        rows.push(cells);
    }
    Ok(rows)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Column {
    Seat,
    Name,
    Group,
    Title,
}

/// The column a header cell names, in Vietnamese or English.
fn column_named(header: &str) -> Option<Column> {
    let header: String = header.trim().to_lowercase().nfc().collect();
    match header.as_str() {
        "seat" | "số ghế" | "ghế" | "stt" | "số" | "no" | "number" => Some(Column::Seat),
        "name" | "họ và tên" | "họ tên" | "tên" | "đại biểu" => Some(Column::Name),
        "group" | "tổ" | "tổ đại biểu" | "đơn vị" => Some(Column::Group),
        "title" | "chức vụ" => Some(Column::Title),
        _ => None,
    }
}

fn seats(rows: &[Vec<String>], total_seats: u32) -> Result<Vec<RosterSeat>, Vec<Problem>> {
    let blank = |row: &Vec<String>| row.iter().all(|c| c.trim().is_empty());
    let Some(header_at) = rows.iter().position(|r| !blank(r)) else {
        return Err(vec![Problem::file(ProblemReason::EmptySheet)]);
    };
    let mut columns: HashMap<Column, usize> = HashMap::new();
    for (i, cell) in rows[header_at].iter().enumerate() {
        if let Some(column) = column_named(cell) {
            columns.entry(column).or_insert(i);
        }
    }
    let header_row = header_at + 1;
    let mut problems = Vec::new();
    for (column, missing) in [(Column::Seat, "seat"), (Column::Name, "name")] {
        if !columns.contains_key(&column) {
            problems.push(Problem::at(
                header_row,
                None,
                ProblemReason::NoColumn {
                    missing: missing.to_owned(),
                },
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let cell = |row: &Vec<String>, column: Column| {
        columns
            .get(&column)
            .and_then(|&i| row.get(i))
            .map_or("", |c| c.trim())
            .to_owned()
    };
    let (seat_column, name_column) = (columns[&Column::Seat], columns[&Column::Name]);
    let mut seen: HashMap<u32, usize> = HashMap::new();
    let mut seats = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(header_at + 1) {
        if blank(row) {
            continue;
        }
        let at = i + 1;
        let seat = cell(row, Column::Seat);
        let name = cell(row, Column::Name);
        if name.is_empty() {
            problems.push(Problem::at(
                at,
                Some(name_column),
                ProblemReason::NameMissing,
            ));
        }
        let number = match seat.parse::<u32>() {
            Err(_) if seat.is_empty() => {
                problems.push(Problem::at(
                    at,
                    Some(seat_column),
                    ProblemReason::SeatMissing,
                ));
                continue;
            }
            Err(_) => {
                problems.push(Problem::at(
                    at,
                    Some(seat_column),
                    ProblemReason::NotSeatNumber { value: seat },
                ));
                continue;
            }
            Ok(n) => n,
        };
        if !(1..=total_seats).contains(&number) {
            problems.push(Problem::at(
                at,
                Some(seat_column),
                ProblemReason::SeatOutside {
                    seat: number,
                    total: total_seats,
                },
            ));
            continue;
        }
        if let Some(first) = seen.insert(number, at) {
            problems.push(Problem::at(
                at,
                Some(seat_column),
                ProblemReason::SeatTwice {
                    seat: number,
                    first_row: first,
                },
            ));
            continue;
        }
        seats.push(RosterSeat {
            number,
            name,
            group: cell(row, Column::Group),
            title: cell(row, Column::Title),
        });
    }
    if seats.is_empty() && problems.is_empty() {
        return Err(vec![Problem::file(ProblemReason::NoDelegates)]);
    }
    let missing: Vec<u32> = (1..=total_seats)
        .filter(|n| !seen.contains_key(n))
        .collect();
    if !missing.is_empty() {
        problems.push(Problem::file(ProblemReason::SeatsWithoutRow {
            count: missing.len(),
            total: total_seats,
            seats: missing.into_iter().take(10).collect(),
        }));
    }
    if problems.is_empty() {
        seats.sort_by_key(|s| s.number);
        Ok(seats)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests;
