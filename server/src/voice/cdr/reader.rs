//! Reading a CSV or NDJSON input row by row, with flat memory and each row's line number.

use std::{
    collections::VecDeque,
    fmt,
    io::{BufRead, BufReader, Read},
};

use super::validate::validate;
use super::{
    restore_cell, CallRecord, Format, InputError, RowError, Rules, HEADER, ID, SERVICE, SIP_REASON,
};

/// Reads CDR rows from CSV or NDJSON, one at a time.
pub struct CdrReader<R: Read> {
    inner: Inner<R>,
}

enum Inner<R: Read> {
    Csv {
        reader: csv::Reader<LineIndex<BufReader<R>>>,
        record: csv::ByteRecord,
    },
    Ndjson {
        reader: BufReader<R>,
        buf: Vec<u8>,
        line: u64,
        bytes: u64,
    },
}

/// Passes bytes through and remembers where the lines break, so a record's line number can be
/// told from its byte offset. The csv crate's own record positions do not count the blank
/// lines it skips, and DESIGN promises the line number in the file.
struct LineIndex<R> {
    inner: R,
    /// Bytes passed through so far.
    offset: u64,
    /// Newlines before the oldest offset in `ahead`.
    behind: u64,
    /// Offsets of the newlines read but not yet asked about (bounded by the parser's buffer).
    ahead: VecDeque<u64>,
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                self.ahead.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> LineIndex<R> {
    /// The 1-based line of the byte at `offset`; offsets must be asked in ascending order.
    fn line_of(&mut self, offset: u64) -> u64 {
        while self.ahead.front().is_some_and(|nl| *nl < offset) {
            self.ahead.pop_front();
            self.behind += 1;
        }
        self.behind + 1
    }
}

impl<R: Read> fmt::Debug for CdrReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CdrReader").finish_non_exhaustive()
    }
}

/// Skips a UTF-8 byte-order mark at the start.
fn skip_bom<R: Read>(reader: &mut BufReader<R>) -> Result<(), InputError> {
    let start = reader
        .fill_buf()
        .map_err(|e| InputError::Read(e.to_string()))?;
    if start.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

impl<R: Read> CdrReader<R> {
    /// Starts reading; for CSV this reads and checks the header line.
    pub fn new(format: Format, input: R) -> Result<CdrReader<R>, InputError> {
        let mut reader = BufReader::with_capacity(256 * 1024, input);
        skip_bom(&mut reader)?;
        let inner = match format {
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(LineIndex {
                        inner: reader,
                        offset: 0,
                        behind: 0,
                        ahead: VecDeque::new(),
                    });
                let mut record = csv::ByteRecord::new();
                if !reader
                    .read_byte_record(&mut record)
                    .map_err(|e| InputError::Read(e.to_string()))?
                {
                    return Err(InputError::Empty);
                }
                if record.iter().ne(HEADER.iter().map(|h| h.as_bytes())) {
                    let got: Vec<String> = record
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect();
                    let mut got = got.join(",");
                    if got.len() > 300 {
                        let cut = (0..=300).rev().find(|i| got.is_char_boundary(*i));
                        got.truncate(cut.unwrap_or(0));
                        got.push('…');
                    }
                    return Err(InputError::WrongHeader { got });
                }
                Inner::Csv { reader, record }
            }
            Format::Ndjson => Inner::Ndjson {
                reader,
                buf: Vec::new(),
                line: 0,
                bytes: 0,
            },
        };
        Ok(CdrReader { inner })
    }

    /// Bytes of input consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Csv { reader, .. } => reader.position().byte(),
            Inner::Ndjson { bytes, .. } => *bytes,
        }
    }

    /// The next row, validated against `rules`: `None` at the end, `Some(Err)` when the input
    /// cannot be read further.
    pub fn next_row(
        &mut self,
        rules: &Rules,
    ) -> Option<Result<Result<CallRecord, RowError>, InputError>> {
        match &mut self.inner {
            Inner::Csv { reader, record } => {
                match reader.read_byte_record(record) {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => return Some(Err(InputError::Read(e.to_string()))),
                }
                // The record's last byte (its terminator, or its last character at the end
                // of the input) is on its last line; quoted newlines put its start before.
                let end = reader.position().byte().saturating_sub(1);
                let last_line = reader.get_mut().line_of(end);
                let inner_newlines: usize = record
                    .iter()
                    .map(|f| f.iter().filter(|b| **b == b'\n').count())
                    .sum();
                let line = last_line.saturating_sub(inner_newlines as u64);
                Some(Ok(csv_row(record, line, rules)))
            }
            Inner::Ndjson {
                reader,
                buf,
                line,
                bytes,
            } => loop {
                buf.clear();
                match reader.read_until(b'\n', buf) {
                    Ok(0) => return None,
                    Ok(n) => *bytes += n as u64,
                    Err(e) => return Some(Err(InputError::Read(e.to_string()))),
                }
                *line += 1;
                if buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(Ok(ndjson_row(buf, *line, rules)));
            },
        }
    }
}

fn row_error(line: u64, field: &str, reason: impl Into<String>) -> RowError {
    RowError {
        line,
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn csv_row(record: &csv::ByteRecord, line: u64, rules: &Rules) -> Result<CallRecord, RowError> {
    if record.len() != HEADER.len() {
        return Err(row_error(
            line,
            "row",
            format!("expected {} fields, found {}", HEADER.len(), record.len()),
        ));
    }
    let mut fields = [""; 15];
    for (i, raw) in record.iter().enumerate() {
        let text = std::str::from_utf8(raw)
            .map_err(|_| row_error(line, HEADER[i], "is not valid UTF-8"))?;
        // The portal's own CSV exports write the free-text fields spreadsheet-safe.
        fields[i] = if matches!(i, ID | SERVICE | SIP_REASON) {
            restore_cell(text)
        } else {
            text
        };
    }
    validate(&fields, rules).map_err(|(field, reason)| row_error(line, field, reason))
}

fn ndjson_row(buf: &[u8], line: u64, rules: &Rules) -> Result<CallRecord, RowError> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(buf)
        .map_err(|e| row_error(line, "row", format!("is not a JSON object: {e}")))?;
    let mut owned: [String; 15] = Default::default();
    for (key, value) in object {
        let i = HEADER
            .iter()
            .position(|h| *h == key)
            .ok_or_else(|| row_error(line, &key, "is not a CDR field"))?;
        owned[i] = match value {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(row_error(line, HEADER[i], "must be a string or a number")),
        };
    }
    let fields: [&str; 15] = std::array::from_fn(|i| owned[i].as_str());
    validate(&fields, rules).map_err(|(field, reason)| row_error(line, field, reason))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::fixtures::{rules, GOOD};
    use super::super::{CallResult, MOS};
    use super::*;

    fn read_all(
        format: Format,
        input: &str,
    ) -> Result<Vec<Result<CallRecord, RowError>>, InputError> {
        let mut reader = CdrReader::new(format, input.as_bytes())?;
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row(&rules()) {
            rows.push(row?);
        }
        Ok(rows)
    }

    #[test]
    fn csv_with_bom_crlf_and_quoted_fields() {
        let input = format!(
            "\u{feff}{}\r\n{}\r\n\"c-2\",\"Trunk A\",2026-03-01T09:00:00Z,,2026-03-01T09:00:09Z,inbound,+441134960000,+4930901820,busy,486,\"Busy, \"\"here\"\"\nreally\",,,,GB\r\n",
            HEADER.join(","),
            GOOD.join(","),
        );
        let rows = read_all(Format::Csv, &input).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].as_ref().unwrap().id, "c-1");
        let busy = rows[1].as_ref().unwrap();
        assert_eq!(busy.sip_reason, "Busy, \"here\"\nreally");
        assert_eq!(busy.result, CallResult::Busy);
    }

    #[test]
    fn csv_row_errors_name_the_line_and_field() {
        let mut bad = GOOD;
        bad[MOS] = "7";
        let input = format!(
            "{}\n{}\n{}\nc-9,Trunk A\n{}\n",
            HEADER.join(","),
            GOOD.join(","),
            bad.join(","),
            GOOD.join(",").replace("c-1", "c-3"),
        );
        let rows = read_all(Format::Csv, &input).unwrap();
        assert_eq!(rows.len(), 4);
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "mos"));
        assert!(
            e.to_string()
                .starts_with("line 3, mos: \"7\" is out of range"),
            "{e}"
        );
        let e = rows[2].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (4, "row"));
        assert!(rows[3].is_ok());
        // Blank lines are skipped but still counted.
        let input = format!("{}\n\n{}\n", HEADER.join(","), bad.join(","));
        let rows = read_all(Format::Csv, &input).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].as_ref().unwrap_err().line, 3);
        // CRLF, a quoted newline before, and a last line without a terminator.
        let input = format!(
            "{}\r\n\r\n{}\r\n{}\r\n\r\n{}",
            HEADER.join(","),
            GOOD.join(",").replace("OK", "\"O\r\nK\""),
            bad.join(","),
            bad.join(","),
        );
        let rows = read_all(Format::Csv, &input).unwrap();
        let lines: Vec<u64> = rows
            .iter()
            .map(|r| r.as_ref().map_or_else(|e| e.line, |_| 0))
            .collect();
        assert_eq!(lines, vec![0, 5, 7]);
    }

    #[test]
    fn a_wrong_or_missing_header_refuses_the_input() {
        let swapped = HEADER.join(",").replace("start,answer", "answer,start");
        assert!(matches!(
            read_all(Format::Csv, &format!("{swapped}\n{}\n", GOOD.join(","))),
            Err(InputError::WrongHeader { .. })
        ));
        assert!(matches!(
            read_all(Format::Csv, &format!("{}\n", GOOD.join(","))),
            Err(InputError::WrongHeader { .. })
        ));
        assert!(matches!(read_all(Format::Csv, ""), Err(InputError::Empty)));
    }

    #[test]
    fn ndjson_uses_the_same_names() {
        let good = r#"{"id":"n-1","service":"Trunk A","start":"2026-03-01T09:00:00Z","answer":null,"end":"2026-03-01T09:00:10Z","direction":"inbound","from":"+441134960000","to":"+4930901820","result":"no_answer","sip_code":480,"sip_reason":"Temporarily Unavailable","mos":null,"jitter_ms":1.5,"country":"DE"}"#;
        let input = format!(
            "{good}\n\n{}\n{}\nnot json\n",
            good.replace("\"mos\":null", "\"mos\":9"),
            good.replace("\"country\"", "\"land\""),
        );
        let rows = read_all(Format::Ndjson, &input).unwrap();
        assert_eq!(rows.len(), 4);
        let r = rows[0].as_ref().unwrap();
        assert_eq!(
            (r.sip_code, r.jitter_ms, r.result),
            (480, Some(1.5), CallResult::NoAnswer)
        );
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "mos"));
        let e = rows[2].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (4, "land"));
        let e = rows[3].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (5, "row"));
    }
}
