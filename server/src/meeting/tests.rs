//! The meeting file's checks, each error with its line, column and field.

use super::file::RawRule;
use super::*;
use gavel_protocol::messages::{DocumentKind, ItemKind};
use gavel_protocol::paper::PaperKind;
use gavel_protocol::rules::{Base, Interim, Rule, Secrecy, VoteSettings};
use serde::Deserialize;

/// A small valid meeting. Tests change one line at a time, so the line
/// numbers below stay put: 4 total_seats, 7/11 seat numbers, 8/12 names,
/// 14 [[topics]], 17 [[topics.items]], 18 kind, 19 title.
const MINIMAL: &str = r#"id = "thu"
title = "Phiên họp thử"
body = "Hội đồng thử"
total_seats = 2

[[seats]]
number = 1
name = "Nguyễn Văn An"

[[seats]]
number = 2
name = "Trần Thị Bình"

[[topics]]
title = "Chủ đề"

[[topics.items]]
kind = "draft_resolution"
title = "Dự thảo nghị quyết"
"#;

fn with(from: &str, to: &str) -> String {
    assert!(MINIMAL.contains(from), "{from:?} is not in MINIMAL");
    MINIMAL.replacen(from, to, 1)
}

/// Parses `text`, expecting an error; returns (line, column, field, message).
fn error(text: &str) -> (usize, usize, String, String) {
    let e = MeetingDefinition::parse(text).expect_err("the definition should be refused");
    (e.line, e.column, e.field, e.message)
}

fn key_hex(seed: u8) -> String {
    PublicKey::of(&ed25519_dalek::SigningKey::from_bytes(&[seed; 32])).to_hex()
}

#[test]
fn the_example_parses_with_40_seats_and_its_agenda() {
    let m = MeetingDefinition::parse(EXAMPLE).unwrap();
    assert_eq!(m.id.as_str(), "phuc-loi-2026-ky-12");
    assert!(m.body.starts_with("Hội đồng nhân dân phường Phúc Lợi"));
    assert_eq!(m.total_seats, 40);
    assert_eq!(m.labels.yes, "Tán thành");
    assert_eq!(m.labels.no, "Không tán thành");
    assert_eq!(m.labels.abstain, "Không biểu quyết");
    assert_eq!(m.seats.len(), 40);
    for (i, seat) in m.seats.iter().enumerate() {
        assert_eq!(seat.number as usize, i + 1);
        assert_eq!(seat.group, format!("Tổ đại biểu số {}", i / 10 + 1));
        assert!(seat.public_key.is_none());
    }
    assert_eq!(m.seat(1).unwrap().name, "Nguyễn Đức Thắng");
    assert_eq!(m.seat(40).unwrap().name, "Ninh Văn Tùng");

    use ItemKind::*;
    let kinds: Vec<ItemKind> = m.agenda.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            Other,
            Report,
            DraftResolution,
            DraftResolution,
            Proposal,
            QuestionSession,
            Other,
            Election,
            Other,
            Other,
            Other,
            DraftResolution
        ]
    );
    for (i, item) in m.agenda.iter().enumerate() {
        assert_eq!(item.index as usize, i);
    }
    let topics: Vec<&str> = m.agenda.iter().map(|i| i.topic.as_str()).collect();
    assert_eq!(topics[0], "Khai mạc kỳ họp");
    assert_eq!(topics[5], "Chất vấn và trả lời chất vấn");
    assert_eq!(
        topics
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        4
    );

    let defaults = VoteSettings::default();
    let vote = |i: u32| m.item(i).unwrap().vote;
    assert_eq!(vote(0), Some(defaults));
    assert_eq!(vote(1), None, "a report is not voted on");
    assert_eq!(
        vote(2),
        Some(VoteSettings {
            window_seconds: 90,
            ..defaults
        })
    );
    assert_eq!(vote(3), Some(defaults));
    assert_eq!(vote(5), None, "a question session is not voted on");
    let secret = VoteSettings {
        secrecy: Secrecy::Secret,
        interim: Interim::None,
        ..defaults
    };
    assert_eq!(vote(6), Some(secret));
    assert_eq!(
        vote(7),
        Some(VoteSettings {
            window_seconds: 90,
            ..secret
        })
    );
    let removal = vote(8).unwrap();
    assert_eq!(
        removal.rule,
        Rule {
            base: Base::AllSeats,
            threshold: Threshold::AtLeastTwoThirds
        }
    );
    assert_eq!(removal.rule.yes_needed(40), 27);
    assert_eq!(removal.secrecy, Secrecy::Secret);
    assert_eq!(vote(11), Some(defaults));
    assert!(m.item(12).is_none());

    // The personnel papers: an election of one of two, a rating of 27
    // officials and a no-confidence vote on two, all secret with nothing
    // shown while open.
    let paper = |i: u32| {
        m.item(i)
            .unwrap()
            .paper
            .as_ref()
            .map(|p| (p.kind, p.posts, p.entries.len()))
    };
    assert_eq!(paper(6), None);
    assert_eq!(paper(7), Some((PaperKind::Election, 1, 2)));
    assert_eq!(paper(8), None);
    assert_eq!(paper(9), Some((PaperKind::Rating, 0, 27)));
    assert_eq!(paper(10), Some((PaperKind::NoConfidence, 0, 2)));
    for i in [9, 10] {
        let settings = vote(i).unwrap();
        assert_eq!(
            (settings.secrecy, settings.interim),
            (Secrecy::Secret, Interim::None)
        );
    }
    assert_eq!(m.counting_board, [7, 15, 23]);
    assert_eq!(m.confirmations_required, 3);
}

#[test]
fn the_error_quoted_in_the_example_is_the_real_one() {
    let quoted = EXAMPLE
        .lines()
        .find_map(|l| l.strip_prefix("#   \"line "))
        .and_then(|l| l.strip_suffix("\"."))
        .expect("the example quotes an error");
    let fifth_seat_says_4 = EXAMPLE.replacen("number = 5\n", "number = 4\n", 1);
    let e = MeetingDefinition::parse(&fifth_seat_says_4).unwrap_err();
    assert_eq!(e.to_string(), format!("line {quoted}"));
}

#[test]
fn the_view_is_the_definition_without_keys() {
    let m = MeetingDefinition::parse(EXAMPLE).unwrap();
    let view = m.view(&[]);
    assert_eq!(view.id, m.id);
    assert_eq!(view.title, m.title);
    assert_eq!(view.body, m.body);
    assert_eq!(view.total_seats, 40);
    assert_eq!(view.labels, m.labels);
    assert_eq!(view.agenda, m.agenda);
    assert_eq!(view.seats.len(), 40);
    for (v, s) in view.seats.iter().zip(&m.seats) {
        assert_eq!((v.number, &v.name, &v.group), (s.number, &s.name, &s.group));
    }
}

#[test]
fn seats_are_found_by_number_whatever_their_order_in_the_file() {
    let text = with("number = 1", "number = 9").replacen("number = 2", "number = 1", 1);
    let text = text.replacen("number = 9", "number = 2", 1);
    let m = MeetingDefinition::parse(&text).unwrap();
    assert_eq!(m.seat(1).unwrap().name, "Trần Thị Bình");
    assert_eq!(m.seat(2).unwrap().name, "Nguyễn Văn An");
    assert_eq!(m.seat(2).unwrap().group, "");
    assert!(m.seat(0).is_none());
    assert!(m.seat(3).is_none());
}

#[test]
fn the_minimal_meeting_gets_the_defaults() {
    let m = MeetingDefinition::parse(MINIMAL).unwrap();
    assert_eq!(m.labels.yes, Labels::default().yes);
    assert_eq!(m.item(0).unwrap().vote, Some(VoteSettings::default()));
    assert_eq!(m.item(0).unwrap().topic, "Chủ đề");
    assert_eq!(m.quorum, Threshold::AtLeastTwoThirds);
}

#[test]
fn the_quorum_is_a_share_of_all_seats_and_checked() {
    let quorum = |q: &str| {
        with(
            "total_seats = 2\n",
            &format!("total_seats = 2\nquorum = {q}\n"),
        )
    };
    let m = MeetingDefinition::parse(&quorum("\"more_than_half\"")).unwrap();
    assert_eq!(m.quorum, Threshold::MoreThanHalf);
    assert_eq!(m.view(&[]).quorum, Threshold::MoreThanHalf);
    let m = MeetingDefinition::parse(&quorum(
        "{ fraction = { num = 3, den = 5, strict = false } }",
    ))
    .unwrap();
    let three_fifths = Threshold::Fraction {
        num: 3,
        den: 5,
        strict: false,
    };
    assert_eq!(m.quorum, three_fifths);

    let (line, _, field, message) = error(&quorum(
        "{ fraction = { num = 5, den = 3, strict = false } }",
    ));
    assert_eq!((line, field.as_str()), (5, "quorum"), "{message}");
    let (_, _, field, _) = error(&quorum("\"most\""));
    assert_eq!(field, "quorum");
}

#[test]
fn vote_is_on_by_kind_and_can_be_switched() {
    let kind = |k: &str, vote: &str| {
        let text = with(
            "kind = \"draft_resolution\"",
            &format!("kind = \"{k}\"\n{vote}"),
        );
        MeetingDefinition::parse(&text).unwrap().agenda[0].vote
    };
    let on = Some(VoteSettings::default());
    assert_eq!(kind("report", ""), None);
    assert_eq!(kind("question_session", ""), None);
    assert_eq!(kind("proposal", ""), on);
    assert_eq!(kind("election", ""), on);
    assert_eq!(kind("other", ""), on);
    assert_eq!(kind("report", "vote = true"), on);
    assert_eq!(kind("draft_resolution", "vote = false"), None);
    assert_eq!(
        kind("report", "vote = { allow_change = false }"),
        Some(VoteSettings {
            allow_change: false,
            ..VoteSettings::default()
        })
    );
}

#[test]
fn item_settings_override_the_defaults_field_by_field() {
    let text = with(
        "total_seats = 2\n",
        "total_seats = 2\n[vote_defaults]\nwindow_seconds = 45\nrequire_check_in = false\n\
         rule = { base = \"cast\", threshold = { fraction = { num = 3, den = 5, strict = true } } }\n",
    )
    .replacen(
        "title = \"Dự thảo nghị quyết\"",
        "title = \"Dự thảo nghị quyết\"\nvote = { window_seconds = 120 }",
        1,
    );
    let vote = MeetingDefinition::parse(&text).unwrap().agenda[0].vote;
    assert_eq!(
        vote,
        Some(VoteSettings {
            rule: Rule {
                base: Base::Cast,
                threshold: Threshold::Fraction {
                    num: 3,
                    den: 5,
                    strict: true
                }
            },
            require_check_in: false,
            window_seconds: 120,
            ..VoteSettings::default()
        })
    );
}

#[test]
fn rules_read_every_serde_shape_of_the_protocol() {
    #[derive(serde::Serialize)]
    struct Written {
        rule: Rule,
    }
    #[derive(Deserialize)]
    struct Read {
        rule: RawRule,
    }
    let thresholds = [
        Threshold::MoreThanHalf,
        Threshold::AtLeastTwoThirds,
        Threshold::AtLeastThreeQuarters,
        Threshold::Fraction {
            num: 3,
            den: 5,
            strict: false,
        },
    ];
    for base in [Base::AllSeats, Base::Present, Base::Cast, Base::YesNo] {
        for threshold in thresholds {
            // A threshold added to the protocol must be added here and to RawThreshold.
            match threshold {
                Threshold::MoreThanHalf
                | Threshold::AtLeastTwoThirds
                | Threshold::AtLeastThreeQuarters
                | Threshold::Fraction { .. } => {}
            }
            let rule = Rule { base, threshold };
            let text = toml::to_string(&Written { rule }).unwrap();
            let read: Read = toml::from_str(&text).unwrap();
            assert_eq!(read.rule.rule(), rule, "{text}");
        }
    }
}

#[test]
fn errors_read_line_column_field_and_message() {
    let e = MeetingDefinition::parse(&with("number = 2", "number = 1")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 11, column 10: seats[1].number: seat 1 is listed twice (first on line 7)"
    );
}

#[test]
fn unknown_keys_are_refused_where_they_are() {
    let (line, column, field, message) = error(&with(
        "name = \"Trần Thị Bình\"",
        "nmae = \"Trần Thị Bình\"",
    ));
    assert_eq!((line, column, field.as_str()), (12, 1, "seats[1].nmae"));
    assert!(message.contains("unknown field `nmae`"), "{message}");

    let (line, _, field, _) = error(&with(
        "total_seats = 2\n",
        "total_seats = 2\nchairman = 1\n",
    ));
    assert_eq!((line, field.as_str()), (5, "chairman"));

    let text = with(
        "total_seats = 2\n",
        "total_seats = 2\n[vote_defaults]\n\
         rule = { base = \"all_seats\", threshold = { fraction = { num = 3, den = 5, strcit = false } } }\n",
    );
    let (line, column, field, _) = error(&text);
    assert_eq!(
        (line, column, field.as_str()),
        (6, 75, "vote_defaults.rule.threshold.fraction.strcit")
    );

    let text = with(
        "title = \"Dự thảo nghị quyết\"",
        "title = \"Dự thảo nghị quyết\"\nvote = { windows = 90 }",
    );
    let (line, column, field, _) = error(&text);
    assert_eq!(
        (line, column, field.as_str()),
        (20, 10, "topics[0].items[0].vote.windows")
    );
}

#[test]
fn missing_and_mistyped_fields_are_named() {
    let (line, column, field, message) =
        error(&with("name = \"Trần Thị Bình\"", "# name is missing"));
    assert_eq!((line, column, field.as_str()), (10, 1, "seats[1].name"));
    assert_eq!(message, "missing field `name`");

    let (line, column, field, _) = error(&with("id = \"thu\"", "# no id"));
    assert_eq!((line, column, field.as_str()), (1, 1, "id"));

    let (line, column, field, message) = error(&with("number = 2", "number = \"2\""));
    assert_eq!((line, column, field.as_str()), (11, 10, "seats[1].number"));
    assert!(message.contains("expected u32"), "{message}");

    let (line, column, field, message) = error(&with(
        "kind = \"draft_resolution\"",
        "kind = \"resolution\"",
    ));
    assert_eq!(
        (line, column, field.as_str()),
        (18, 8, "topics[0].items[0].kind")
    );
    assert!(
        message.contains("unknown variant `resolution`"),
        "{message}"
    );

    let text = with(
        "title = \"Dự thảo nghị quyết\"",
        "title = \"Dự thảo nghị quyết\"\nvote = \"yes\"",
    );
    let (line, column, field, message) = error(&text);
    assert_eq!(
        (line, column, field.as_str()),
        (20, 8, "topics[0].items[0].vote")
    );
    assert!(message.contains("true, false or a table"), "{message}");
}

#[test]
fn seat_numbers_must_cover_the_roster_once_each() {
    let (line, column, field, message) = error(&with("number = 2", "number = 1"));
    assert_eq!((line, column, field.as_str()), (11, 10, "seats[1].number"));
    assert_eq!(message, "seat 1 is listed twice (first on line 7)");

    let (line, column, field, message) = error(&with("number = 2", "number = 3"));
    assert_eq!((line, column, field.as_str()), (11, 10, "seats[1].number"));
    assert_eq!(message, "seat 3 is outside 1..=2 (total_seats)");

    let (line, column, field, message) = error(&with("number = 1", "number = 0"));
    assert_eq!((line, column, field.as_str()), (7, 10, "seats[0].number"));
    assert!(message.starts_with("seat 0 is outside"), "{message}");

    let (line, column, field, message) = error(&with("total_seats = 2", "total_seats = 3"));
    assert_eq!((line, column, field.as_str()), (4, 15, "total_seats"));
    assert_eq!(
        message,
        "is 3 but 2 [[seats]] are listed: seat 3 is missing"
    );

    let (line, _, field, message) = error(&with("total_seats = 2", "total_seats = 40"));
    assert_eq!((line, field.as_str()), (4, "total_seats"));
    assert_eq!(
        message,
        "is 40 but 2 [[seats]] are listed: seats 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 28 more are missing"
    );

    let (line, _, field, _) = error(&with("total_seats = 2", "total_seats = 0"));
    assert_eq!((line, field.as_str()), (4, "total_seats"));
    let (line, _, field, _) = error(&with("total_seats = 2", "total_seats = 4000000000"));
    assert_eq!((line, field.as_str()), (4, "total_seats"));
}

#[test]
fn text_fields_must_not_be_blank() {
    let (line, column, field, _) = error(&with("title = \"Phiên họp thử\"", "title = \"  \""));
    assert_eq!((line, column, field.as_str()), (2, 9, "title"));
    let (line, column, field, message) = error(&with("name = \"Nguyễn Văn An\"", "name = \"\""));
    assert_eq!((line, column, field.as_str()), (8, 8, "seats[0].name"));
    assert_eq!(message, "must not be empty");
    let (line, _, field, _) = error(&with("title = \"Chủ đề\"", "title = \"\""));
    assert_eq!((line, field.as_str()), (15, "topics[0].title"));
    let (line, _, field, _) = error(&with("title = \"Dự thảo nghị quyết\"", "title = \"\""));
    assert_eq!((line, field.as_str()), (19, "topics[0].items[0].title"));
}

#[test]
fn the_meeting_id_must_be_a_slug() {
    let (line, column, field, message) = error(&with("id = \"thu\"", "id = \"Phúc Lợi\""));
    assert_eq!((line, column, field.as_str()), (1, 6, "id"));
    assert!(message.contains("a-z, 0-9 and '-'"), "{message}");
}

#[test]
fn public_keys_must_be_valid_and_distinct() {
    let key = key_hex(7);
    let text = with(
        "name = \"Nguyễn Văn An\"\n",
        &format!("name = \"Nguyễn Văn An\"\npublic_key = \"{key}\"\n"),
    );
    let m = MeetingDefinition::parse(&text).unwrap();
    assert_eq!(m.seat(1).unwrap().public_key.unwrap().to_hex(), key);
    assert_eq!(m.seat(2).unwrap().public_key, None);

    let (line, column, field, message) = error(&with(
        "name = \"Nguyễn Văn An\"\n",
        "name = \"Nguyễn Văn An\"\npublic_key = \"abcd\"\n",
    ));
    assert_eq!(
        (line, column, field.as_str()),
        (9, 14, "seats[0].public_key")
    );
    assert!(message.contains("64 hex digits"), "{message}");

    let text = with(
        "name = \"Nguyễn Văn An\"\n",
        &format!("name = \"Nguyễn Văn An\"\npublic_key = \"{key}\"\n"),
    )
    .replacen(
        "name = \"Trần Thị Bình\"\n",
        &format!("name = \"Trần Thị Bình\"\npublic_key = \"{key}\"\n"),
        1,
    );
    let (line, _, field, message) = error(&text);
    assert_eq!((line, field.as_str()), (14, "seats[1].public_key"));
    assert_eq!(message, "this key is already given to seat 1");
}

#[test]
fn invalid_vote_settings_blame_the_field_that_breaks_them() {
    let item_vote = |vote: &str| {
        with(
            "title = \"Dự thảo nghị quyết\"",
            &format!("title = \"Dự thảo nghị quyết\"\nvote = {vote}"),
        )
    };
    let (line, column, field, message) = error(&item_vote(
        "{ secrecy = \"secret\", interim = \"individual\" }",
    ));
    assert_eq!(
        (line, column, field.as_str()),
        (20, 40, "topics[0].items[0].vote.interim")
    );
    assert!(
        message.contains("secret vote cannot show individual"),
        "{message}"
    );

    let (line, column, field, message) = error(&item_vote("{ window_seconds = 0 }"));
    assert_eq!(
        (line, column, field.as_str()),
        (20, 27, "topics[0].items[0].vote.window_seconds")
    );
    assert!(message.contains("window_seconds"), "{message}");

    // The conflict is made by the item, with an interim from the defaults.
    let text = with(
        "total_seats = 2\n",
        "total_seats = 2\n[vote_defaults]\ninterim = \"individual\"\n",
    )
    .replacen(
        "title = \"Dự thảo nghị quyết\"",
        "title = \"Dự thảo nghị quyết\"\nvote = { secrecy = \"secret\" }",
        1,
    );
    let (line, column, field, _) = error(&text);
    assert_eq!(
        (line, column, field.as_str()),
        (22, 20, "topics[0].items[0].vote.secrecy")
    );

    let text = with(
        "total_seats = 2\n",
        "total_seats = 2\n[vote_defaults]\n\
         rule = { base = \"all_seats\", threshold = { fraction = { num = 3, den = 2, strict = false } } }\n",
    );
    let (line, column, field, message) = error(&text);
    assert_eq!((line, column, field.as_str()), (6, 8, "vote_defaults.rule"));
    assert!(message.contains("3/2"), "{message}");
}

#[test]
fn topics_need_items_and_the_agenda_needs_topics() {
    let text = with(
        "[[topics.items]]\nkind = \"draft_resolution\"\ntitle = \"Dự thảo nghị quyết\"\n",
        "",
    );
    let (line, column, field, message) = error(&text);
    assert_eq!((line, column, field.as_str()), (14, 1, "topics[0]"));
    assert!(message.contains("no items"), "{message}");

    let (_, _, field, _) = error(&MINIMAL[..MINIMAL.find("[[topics]]").unwrap()]);
    assert_eq!(field, "topics");
}

#[test]
fn labels_must_be_distinct_and_columns_count_characters() {
    let text = with(
        "total_seats = 2\n",
        "total_seats = 2\nlabels = { yes = \"Đồng ý\", no = \"Đồng ý\" }\n",
    );
    let (line, column, field, message) = error(&text);
    assert_eq!((line, column, field.as_str()), (5, 33, "labels.no"));
    assert_eq!(
        message,
        "is the same as labels.yes; the three labels must differ"
    );

    let text = with(
        "total_seats = 2\n",
        "total_seats = 2\n[labels]\nyes = \"Không biểu quyết\"\n",
    );
    let (line, column, field, message) = error(&text);
    assert_eq!((line, column, field.as_str()), (6, 7, "labels.yes"));
    assert_eq!(
        message,
        "is the same as labels.abstain; the three labels must differ"
    );

    let text = with(
        "total_seats = 2\n",
        "total_seats = 2\n[labels]\nyes = \"Đồng ý\"\nno = \"Không đồng ý\"\nabstain = \"Phiếu trắng\"\n",
    );
    let m = MeetingDefinition::parse(&text).unwrap();
    assert_eq!(
        (
            m.labels.yes.as_str(),
            m.labels.no.as_str(),
            m.labels.abstain.as_str()
        ),
        ("Đồng ý", "Không đồng ý", "Phiếu trắng")
    );
}

#[test]
fn syntax_errors_name_the_nearest_field() {
    let (line, _, field, _) = error(&with("name = \"Trần Thị Bình\"", "name = \"Trần Thị Bình"));
    assert_eq!((line, field.as_str()), (12, "seats[1].name"));

    let (line, column, field, message) = error(&with("number = 2\n", "number = 2\nnumber = 3\n"));
    assert_eq!((line, column, field.as_str()), (12, 1, "seats[1].number"));
    assert!(message.contains("duplicate key"), "{message}");
}

#[test]
fn windows_line_endings_and_a_byte_order_mark_are_fine() {
    let crlf = MINIMAL.replace('\n', "\r\n");
    assert!(MeetingDefinition::parse(&crlf).is_ok());
    let bom = format!("\u{feff}{}", with("id = \"thu\"", "id = \"Thu\""));
    let (line, column, field, _) = error(&bom);
    assert_eq!((line, column, field.as_str()), (1, 6, "id"));
    let (line, column, _, _) = error(&crlf.replacen("number = 2", "number = 1", 1));
    assert_eq!((line, column), (11, 10));
}

#[test]
fn items_name_their_documents_and_each_is_checked() {
    let documents = "\n[[topics.items.documents]]\ntitle = \"Tờ trình\"\nkind = \"submission\"\n\
                     file = \"a/to-trinh.pdf\"\npublic = true\n\n\
                     [[topics.items.documents]]\ntitle = \"Dự thảo\"\nkind = \"draft_resolution\"\n\
                     file = \"du-thao.pdf\"\n";
    let m = MeetingDefinition::parse(&format!("{MINIMAL}{documents}")).unwrap();
    let named: Vec<_> = m
        .documents
        .iter()
        .map(|d| {
            (
                d.item,
                d.slot,
                d.title.as_str(),
                d.kind,
                d.file.as_str(),
                d.public,
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            (
                0,
                0,
                "Tờ trình",
                DocumentKind::Submission,
                "a/to-trinh.pdf",
                true
            ),
            (
                0,
                1,
                "Dự thảo",
                DocumentKind::DraftResolution,
                "du-thao.pdf",
                false
            ),
        ]
    );
    assert!(m.agenda[0].documents.is_empty(), "the store holds them");

    let blank = documents.replacen("file = \"du-thao.pdf\"", "file = \" \"", 1);
    let (line, _, field, _) = error(&format!("{MINIMAL}{blank}"));
    assert_eq!(
        (line, field.as_str()),
        (30, "topics[0].items[0].documents[1].file")
    );
    let unknown = documents.replacen("kind = \"submission\"", "kind = \"minutes\"", 1);
    let (line, _, field, _) = error(&format!("{MINIMAL}{unknown}"));
    assert_eq!(
        (line, field.as_str()),
        (23, "topics[0].items[0].documents[0].kind")
    );
    let typo = documents.replacen("public = true", "pubic = true", 1);
    let (line, _, field, _) = error(&format!("{MINIMAL}{typo}"));
    assert_eq!(
        (line, field.as_str()),
        (25, "topics[0].items[0].documents[0].pubic")
    );
}

/// MINIMAL's item (lines 17–19) with a list: line 20 `ballot`, 21 `posts`,
/// 22 the list.
fn with_list(ballot: &str, posts: &str, list: &str) -> String {
    format!("{MINIMAL}ballot = {ballot}\n{posts}\n{list}\n")
}

const TWO_CANDIDATES: &str =
    r#"candidates = [{ name = "Lê Hoàng Cường", post = "Ủy viên" }, { name = "Phạm Thu Dung" }]"#;

#[test]
fn an_item_on_a_list_carries_its_kind_posts_and_entries() {
    let m = MeetingDefinition::parse(&with_list("\"election\"", "", TWO_CANDIDATES)).unwrap();
    let paper = m.agenda[0].paper.as_ref().expect("an election");
    assert_eq!((paper.kind, paper.posts), (PaperKind::Election, 1));
    assert_eq!(paper.entries[0].name, "Lê Hoàng Cường");
    assert_eq!(paper.entries[1].post, "", "a post may be left out");
    let officials =
        r#"officials = [{ name = "A", post = "Chủ tịch" }, { name = "B", post = "Phó Chủ tịch" }]"#;
    let m = MeetingDefinition::parse(&with_list("\"rating\"", "", officials)).unwrap();
    let paper = m.agenda[0].paper.as_ref().expect("a rating");
    assert_eq!(
        (paper.kind, paper.posts, paper.entries.len()),
        (PaperKind::Rating, 0, 2)
    );
    assert!(
        MeetingDefinition::parse(MINIMAL).unwrap().agenda[0]
            .paper
            .is_none()
    );
}

#[test]
fn a_list_that_does_not_fit_its_kind_is_refused_at_its_field() {
    let officials = r#"officials = [{ name = "A" }]"#;
    let cases = [
        (
            with_list("\"election\"", "", ""),
            20,
            "topics[0].items[0].candidates",
        ),
        (
            with_list("\"rating\"", "", TWO_CANDIDATES),
            22,
            "topics[0].items[0].candidates",
        ),
        (
            with_list("\"election\"", "posts = 3", TWO_CANDIDATES),
            21,
            "topics[0].items[0].posts",
        ),
        (
            with_list("\"election\"", "posts = 0", TWO_CANDIDATES),
            21,
            "topics[0].items[0].posts",
        ),
        (
            with_list("\"no_confidence\"", "posts = 1", officials),
            21,
            "topics[0].items[0].posts",
        ),
        (
            with_list(
                "\"election\"",
                "",
                r#"candidates = [{ name = "A" }, { name = "A" }]"#,
            ),
            22,
            "topics[0].items[0].candidates[1].name",
        ),
        (
            with_list("\"rating\"", "", "officials = []"),
            22,
            "topics[0].items[0].officials",
        ),
        (
            with_list("\"ballot_of_some_kind\"", "", officials),
            20,
            "topics[0].items[0].ballot",
        ),
        (
            format!("{MINIMAL}{officials}\n"),
            20,
            "topics[0].items[0].officials",
        ),
        (
            with(
                "title = \"Dự thảo nghị quyết\"",
                "title = \"Báo cáo\"\nvote = false",
            ) + "ballot = \"rating\"\nofficials = [{ name = \"A\" }]\n",
            21,
            "topics[0].items[0].ballot",
        ),
        (
            with(
                "title = \"Dự thảo nghị quyết\"",
                "title = \"Bầu\"\nvote = { interim = \"individual\" }",
            ) + "ballot = \"rating\"\nofficials = [{ name = \"A\" }]\n",
            21,
            "topics[0].items[0].vote.interim",
        ),
    ];
    for (text, line, field) in cases {
        let (found_line, _, found_field, message) = error(&text);
        assert_eq!(
            (found_line, found_field.as_str()),
            (line, field),
            "{message}\n{text}"
        );
    }
}

#[test]
fn the_floor_respondents_and_registered_questions_are_read_and_checked() {
    let m = MeetingDefinition::parse(EXAMPLE).unwrap();
    assert_eq!(m.floor.speak_seconds, 300);
    assert_eq!(m.respondents.len(), 2);
    let session = m
        .agenda
        .iter()
        .find(|i| i.kind == ItemKind::QuestionSession)
        .unwrap();
    assert_eq!(m.questions.len(), 1);
    assert_eq!(
        (m.questions[0].item, m.questions[0].seat),
        (session.index, 12)
    );
    assert_eq!(m.view(&[]).respondents, m.respondents);

    let floor = with(
        "[[topics]]",
        "[floor]\nreply_seconds = 120\nreplies_first = false\n\n\
         [[respondents]]\nname = \"Lê Minh Tuấn\"\npost = \"Chủ tịch UBND\"\n\n[[topics]]",
    );
    let m = MeetingDefinition::parse(&floor).unwrap();
    assert_eq!((m.floor.reply_seconds, m.floor.replies_first), (120, false));
    assert_eq!(
        m.floor.speak_seconds, 300,
        "unwritten limits keep the default"
    );

    let question = |seat: u32, respondent: u32, topic: &str| {
        format!(
            "{floor}\n[[topics.items]]\nkind = \"question_session\"\ntitle = \"Chất vấn\"\n\n\
             [[topics.items.questions]]\nseat = {seat}\nrespondent = {respondent}\ntopic = \"{topic}\"\n"
        )
    };
    let m = MeetingDefinition::parse(&question(1, 0, "Đất đai")).unwrap();
    assert_eq!(m.questions[0].item, 1);
    let field = |text: &str| error(text).2;
    assert_eq!(
        field(&question(1, 1, "")),
        "topics[0].items[1].questions[0].respondent"
    );
    assert_eq!(
        field(&question(9, 0, "")),
        "topics[0].items[1].questions[0].seat"
    );
    assert_eq!(
        field(&question(1, 0, "a\\u0007b")),
        "topics[0].items[1].questions[0].topic"
    );
    let on_a_resolution =
        format!("{floor}\n[[topics.items.questions]]\nseat = 1\nrespondent = 0\n");
    assert_eq!(field(&on_a_resolution), "topics[0].items[0].questions[0]");
}

#[test]
fn the_counting_board_is_read_head_first_and_checked_against_the_roster() {
    let m = MeetingDefinition::parse(EXAMPLE).unwrap();
    assert_eq!(m.counting_board, vec![7, 15, 23]);
    assert!(
        MeetingDefinition::parse(MINIMAL)
            .unwrap()
            .counting_board
            .is_empty()
    );
    let board = |seats: &str| {
        with(
            "[[topics]]",
            &format!("[counting_board]\nseats = {seats}\n\n[[topics]]"),
        )
    };
    let m = MeetingDefinition::parse(&board("[2, 1]")).unwrap();
    assert_eq!(m.counting_board, vec![2, 1], "the head first, as written");
    assert_eq!(m.confirmations_required, 2, "all members by default");
    let m = MeetingDefinition::parse(&board("[2, 1]\nconfirmations = 1")).unwrap();
    assert_eq!(m.confirmations_required, 1);
    for (seats, line, column, field, message) in [
        ("[]", 15, 9, "counting_board.seats", "at least one member"),
        ("[1, 3]", 15, 13, "counting_board.seats[1]", "outside 1..=2"),
        (
            "[1, 2]\nconfirmations = 0",
            16,
            17,
            "counting_board.confirmations",
            "1 to 2",
        ),
        (
            "[1, 2]\nconfirmations = 3",
            16,
            17,
            "counting_board.confirmations",
            "1 to 2",
        ),
        (
            "[2, 2]",
            15,
            13,
            "counting_board.seats[1]",
            "on the board twice",
        ),
    ] {
        let (l, c, f, m) = error(&board(seats));
        assert_eq!((l, c, f.as_str()), (line, column, field), "{seats}: {m}");
        assert!(m.contains(message), "{seats}: {m}");
    }
}
