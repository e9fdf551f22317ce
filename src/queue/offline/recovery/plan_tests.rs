//! Unit tests of the recovery planner: a [`Report`] built by hand goes in, the exact [`Plan`]
//! (its actions, in order, and the producer offset after the repair) comes out. Nothing here
//! touches the disk: the paths name a store that does not exist.
//!
//! The fixed-format reports use a payload of 9 bytes and a SegmentSize of 100: a stride of 10,
//! segments spanning 100 offsets each, files of 101 bytes. The stream reports use a SegmentSize
//! of 4096.

use std::path::PathBuf;

use super::plan::{plan, Action, Plan};
use super::{ConsumerState, OrphanSegment, OversizedSegment, Report, TailRegion};
use crate::queue::format::layout::{ConsumerId, Layout, SegmentFile};
use crate::queue::format::params::{Params, ParamsSource};

const ROOT: &str = "/nonexistent/mfq-plan-tests/store";

fn layout() -> Layout {
    Layout::new(ROOT)
}

fn seg(start: u64) -> PathBuf {
    layout().segment(start)
}

fn id(name: &str) -> ConsumerId {
    ConsumerId::parse(name).expect("a valid consumer name")
}

/// A report under construction. Consumers added with [`Store::consumer`] get the boundary a
/// scan would note for them (their own offset, when it lies in the scanned data and outside
/// every gap); [`Store::consumer_in_record`] gives one explicitly.
struct Store {
    params: Params,
    r: Report,
    /// Per consumer: the boundary given explicitly (None: the default above).
    boundaries: Vec<Option<Option<u64>>>,
}

impl Store {
    fn fixed() -> Store {
        Store::new(Params::fixed(9, 100).expect("valid parameters"))
    }

    fn stream() -> Store {
        Store::new(Params::stream(4096).expect("valid parameters"))
    }

    fn new(params: Params) -> Store {
        let r = Report {
            path: PathBuf::from(ROOT),
            format: params.format(),
            record_size: params.record_size(),
            segment_size: params.segment_size(),
            params_source: ParamsSource::Explicit,
            segments: vec![],
            stray_files: vec![],
            producer_offset: None,
            confirmed_offset: None,
            consumers: vec![],
            earliest: 0,
            scanned_from: None,
            data_end: None,
            tail: vec![],
            orphans: vec![],
            oversized: vec![],
            gaps: vec![],
            bad_offset_files: vec![],
            recorded_gaps: vec![],
            confirmed_at_risk: None,
            pending: None,
            issues: vec![],
        };
        Store {
            params,
            r,
            boundaries: vec![],
        }
    }

    /// Segment files of the length the parameters give.
    fn segments(mut self, starts: &[u64]) -> Store {
        for &start in starts {
            self.r.segments.push(SegmentFile {
                start,
                path: seg(start),
                len: self.params.file_len(),
            });
        }
        self
    }

    fn data_end(mut self, end: u64) -> Store {
        self.r.data_end = Some(end);
        self
    }

    fn producer(mut self, offset: Option<u64>) -> Store {
        self.r.producer_offset = offset;
        self
    }

    fn confirmed(mut self, offset: Option<u64>) -> Store {
        self.r.confirmed_offset = offset;
        self
    }

    /// Producer and confirmed offsets both readable.
    fn offsets(self, producer: u64, confirmed: u64) -> Store {
        self.producer(Some(producer)).confirmed(Some(confirmed))
    }

    fn consumer(self, name: &str, offset: u64) -> Store {
        self.push_consumer(name, Some(offset), None)
    }

    /// A consumer whose offset is `offset`, with the record boundary at or below it `boundary`.
    fn consumer_in_record(self, name: &str, offset: u64, boundary: u64) -> Store {
        self.push_consumer(name, Some(offset), Some(Some(boundary)))
    }

    /// A consumer whose offset file is missing or unreadable.
    fn unreadable_consumer(self, name: &str) -> Store {
        self.push_consumer(name, None, Some(None))
    }

    fn push_consumer(
        mut self,
        name: &str,
        offset: Option<u64>,
        boundary: Option<Option<u64>>,
    ) -> Store {
        let id = id(name);
        self.r.consumers.push(ConsumerState {
            name: id.name().to_string(),
            id,
            offset,
            boundary: None,
        });
        self.boundaries.push(boundary);
        self
    }

    /// Bytes past the data end in the segment starting at `start`.
    fn tail(mut self, start: u64, from_pos: u64, to_pos: u64, records: u64) -> Store {
        self.r.tail.push(TailRegion {
            path: seg(start),
            segment_start: start,
            from_pos,
            to_pos,
            records,
        });
        self
    }

    /// A segment file past the data end (it is listed among the segments too).
    fn orphan(mut self, start: u64, records: u64) -> Store {
        self = self.segments(&[start]);
        self.r.orphans.push(OrphanSegment {
            path: seg(start),
            start,
            records,
        });
        self
    }

    /// The segment starting at `start` is `len` bytes long, more than the parameters give.
    fn oversized(mut self, start: u64, len: u64) -> Store {
        let want = self.params.file_len();
        assert!(len > want);
        let s = self
            .r
            .segments
            .iter_mut()
            .find(|s| s.start == start)
            .expect("oversized() names a segment added before");
        s.len = len;
        self.r.oversized.push(OversizedSegment {
            path: seg(start),
            len,
            want,
        });
        self
    }

    /// A zero gap an earlier repair left, that the scan stepped over.
    fn gap(mut self, from: u64, to: u64) -> Store {
        self.r.gaps.push((from, to));
        self
    }

    /// An offset file (in `offset/`) that is not 8 bytes long or holds a negative value.
    fn bad_file(mut self, file_name: &str) -> Store {
        self.r
            .bad_offset_files
            .push(layout().offset_dir().join(file_name));
        self
    }

    fn build(mut self) -> Report {
        self.r.segments.sort_by_key(|s| s.start);
        self.r.earliest = self.r.segments.first().map_or(0, |s| s.start);
        if self.r.data_end.is_some() {
            self.r.scanned_from = Some(self.r.earliest);
        }
        for (c, given) in self.r.consumers.iter_mut().zip(&self.boundaries) {
            c.boundary = match given {
                Some(b) => *b,
                None => scanned_boundary(&self.r.gaps, self.r.data_end, c.offset),
            };
        }
        self.r
    }
}

/// The boundary a scan notes for a consumer on a record boundary: its offset, when the scan
/// reached it (at or below the data end, not inside a gap it stepped over).
fn scanned_boundary(gaps: &[(u64, u64)], end: Option<u64>, offset: Option<u64>) -> Option<u64> {
    let (k, end) = (offset?, end?);
    let in_gap = gaps.iter().any(|&(a, b)| k > a && k < b);
    (k <= end && !in_gap).then_some(k)
}

fn set_producer(from: Option<u64>, to: u64) -> Action {
    Action::SetProducer { from, to }
}

fn set_confirmed(from: Option<u64>, to: u64) -> Action {
    Action::SetConfirmed { from, to }
}

fn set_consumer(name: &str, from: Option<u64>, to: u64, lost: Option<(u64, u64)>) -> Action {
    let id = id(name);
    Action::SetConsumer {
        name: id.name().to_string(),
        id,
        from,
        to,
        lost,
    }
}

fn zero_tail(start: u64, from_pos: u64, to_pos: u64, records: u64) -> Action {
    Action::ZeroTail {
        path: seg(start),
        from_pos,
        to_pos,
        records,
    }
}

fn trim(start: u64, from_len: u64, to_len: u64) -> Action {
    Action::TrimSegment {
        path: seg(start),
        from_len,
        to_len,
    }
}

fn remove(start: u64, records: u64) -> Action {
    Action::RemoveSegment {
        path: seg(start),
        records,
    }
}

/// Asserts the whole plan for `r` (with consumers, as `mfq recover` plans).
#[track_caller]
fn assert_plan(r: &Report, actions: Vec<Action>, producer_offset: u64) {
    assert_eq!(
        plan(r, true),
        Plan {
            actions,
            producer_offset,
            ..Default::default()
        }
    );
}

// The scenarios, shared with the idempotence test at the end.

fn clean_fixed() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 130)
        .consumer("consumer", 120)
        .consumer("audit", 130)
        .build()
}

fn clean_stream() -> Report {
    Store::stream()
        .segments(&[0, 4000])
        .data_end(4100)
        .offsets(4100, 4050)
        .consumer("consumer", 4000)
        .consumer("audit", 4100)
        .build()
}

fn torn_fixed_tail() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .tail(100, 30, 101, 0)
        .offsets(150, 150)
        .consumer("consumer", 120)
        .build()
}

fn stale_stream_records() -> Report {
    Store::stream()
        .segments(&[0])
        .data_end(300)
        .tail(0, 300, 4096, 2)
        .offsets(380, 300)
        .consumer("consumer", 300)
        .build()
}

fn producer_ahead() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(200, 120)
        .consumer("consumer", 120)
        .build()
}

fn producer_behind() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(100, 100)
        .consumer("consumer", 100)
        .build()
}

fn confirmed_ahead() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 150)
        .build()
}

fn both_ahead() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(200, 180)
        .build()
}

fn fixed_orphans() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .orphan(300, 4)
        .orphan(500, 0)
        .data_end(130)
        .tail(100, 30, 101, 1)
        .offsets(130, 130)
        .build()
}

fn stream_orphans() -> Report {
    // 2000: a stale file starting inside the records of segment 0 (off the chain); 4096: a
    // segment past the data end.
    Store::stream()
        .segments(&[0])
        .orphan(2000, 3)
        .orphan(4096, 1)
        .data_end(2500)
        .offsets(4200, 2500)
        .build()
}

fn consumer_past_the_end() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 130)
        .consumer("consumer", 300)
        .build()
}

fn consumer_in_an_orphan() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .orphan(300, 5)
        .data_end(130)
        .tail(100, 30, 101, 2)
        .offsets(350, 340)
        .consumer("consumer", 320)
        .build()
}

fn consumer_in_the_new_gap() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 130)
        .consumer("consumer", 300)
        .consumer("audit", 200)
        .build()
}

fn misaligned_consumer_past_the_end() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 130)
        .consumer("consumer", 305)
        .build()
}

fn consumer_in_an_earlier_gap() -> Report {
    // An earlier repair left 130..300 zero for the default consumer at 300; records were
    // appended from 300 to 350 since.
    Store::fixed()
        .segments(&[0, 100, 300])
        .gap(130, 300)
        .data_end(350)
        .offsets(350, 350)
        .consumer("consumer", 300)
        .consumer("audit", 200)
        .build()
}

fn consumer_in_a_deleted_segment() -> Report {
    Store::fixed()
        .segments(&[200, 300])
        .data_end(330)
        .offsets(330, 330)
        .consumer("consumer", 50)
        .build()
}

fn misaligned_fixed_consumer() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 130)
        .consumer_in_record("consumer", 125, 120)
        .build()
}

fn misaligned_stream_consumer() -> Report {
    Store::stream()
        .segments(&[0])
        .data_end(300)
        .offsets(300, 300)
        .consumer_in_record("audit", 25, 20)
        .build()
}

fn unreadable_offset_files() -> Report {
    Store::fixed()
        .segments(&[100, 200])
        .data_end(230)
        .producer(None)
        .confirmed(None)
        .bad_file("producer.offset")
        .bad_file("producer.confirmed.offset")
        .bad_file("consumer.audit.offset")
        .consumer("consumer", 150)
        .unreadable_consumer("audit")
        .build()
}

fn missing_offset_files() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .producer(None)
        .confirmed(None)
        .build()
}

fn short_offset_files() -> Report {
    // Files shorter than 8 bytes: their value is read, and they are rewritten as 8 bytes even
    // where the value stays.
    Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 130)
        .bad_file("producer.offset")
        .bad_file("producer.confirmed.offset")
        .bad_file("consumer.audit.offset")
        .consumer("consumer", 120)
        .consumer("audit", 110)
        .build()
}

fn oversized_fixed_segment() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .oversized(0, 4096)
        .data_end(130)
        .offsets(130, 130)
        .build()
}

fn everything_at_once() -> Report {
    Store::fixed()
        .segments(&[0, 100])
        .oversized(0, 111)
        .orphan(300, 3)
        .orphan(400, 0)
        .data_end(130)
        .tail(100, 30, 101, 1)
        .offsets(500, 450)
        .unreadable_consumer("first")
        .consumer("consumer", 250)
        .consumer_in_record("audit", 125, 120)
        .consumer("late", 200)
        .build()
}

fn scenarios() -> Vec<(&'static str, Report)> {
    vec![
        ("clean_fixed", clean_fixed()),
        ("clean_stream", clean_stream()),
        ("torn_fixed_tail", torn_fixed_tail()),
        ("stale_stream_records", stale_stream_records()),
        ("producer_ahead", producer_ahead()),
        ("producer_behind", producer_behind()),
        ("confirmed_ahead", confirmed_ahead()),
        ("both_ahead", both_ahead()),
        ("fixed_orphans", fixed_orphans()),
        ("stream_orphans", stream_orphans()),
        ("consumer_past_the_end", consumer_past_the_end()),
        ("consumer_in_an_orphan", consumer_in_an_orphan()),
        ("consumer_in_the_new_gap", consumer_in_the_new_gap()),
        (
            "misaligned_consumer_past_the_end",
            misaligned_consumer_past_the_end(),
        ),
        ("consumer_in_an_earlier_gap", consumer_in_an_earlier_gap()),
        (
            "consumer_in_a_deleted_segment",
            consumer_in_a_deleted_segment(),
        ),
        ("misaligned_fixed_consumer", misaligned_fixed_consumer()),
        ("misaligned_stream_consumer", misaligned_stream_consumer()),
        ("unreadable_offset_files", unreadable_offset_files()),
        ("missing_offset_files", missing_offset_files()),
        ("short_offset_files", short_offset_files()),
        ("oversized_fixed_segment", oversized_fixed_segment()),
        ("everything_at_once", everything_at_once()),
    ]
}

#[test]
fn a_clean_fixed_report_plans_nothing() {
    let r = clean_fixed();
    assert_plan(&r, vec![], 130);
    assert!(plan(&r, true).is_empty());
    assert!(!plan(&r, true).removes_records());
}

#[test]
fn a_clean_stream_report_plans_nothing() {
    assert_plan(&clean_stream(), vec![], 4100);
}

#[test]
fn an_empty_store_plans_nothing() {
    let r = Store::fixed()
        .data_end(0)
        .offsets(0, 0)
        .consumer("consumer", 0)
        .build();
    assert_plan(&r, vec![], 0);
}

#[test]
fn a_torn_tail_is_zeroed_and_the_producer_moves_to_the_data_end() {
    let r = torn_fixed_tail();
    assert_plan(
        &r,
        vec![
            zero_tail(100, 30, 101, 0),
            set_producer(Some(150), 130),
            set_confirmed(Some(150), 130),
        ],
        130,
    );
    // No complete record in the region: nothing worth saving aside as records.
    assert!(!plan(&r, true).removes_records());
}

#[test]
fn stale_stream_records_are_zeroed_and_a_confirmed_offset_at_the_data_end_stays() {
    let r = stale_stream_records();
    let p = plan(&r, true);
    assert_eq!(
        p,
        Plan {
            actions: vec![zero_tail(0, 300, 4096, 2), set_producer(Some(380), 300)],
            producer_offset: 300,
            ..Default::default()
        }
    );
    assert!(p.removes_records());
    let removed = p.actions[0].removed().expect("a zeroed tail removes bytes");
    assert_eq!(removed.path, seg(0).as_path());
    assert_eq!((removed.from, removed.to), (300, Some(4096)));
    assert_eq!(removed.salvage_name, "00000000000000000000.from-300");
    assert_eq!(p.actions[1].removed(), None);
}

#[test]
fn a_producer_past_the_data_end_moves_back_to_it() {
    assert_plan(&producer_ahead(), vec![set_producer(Some(200), 130)], 130);
}

#[test]
fn a_producer_behind_the_data_end_moves_up_to_it_and_a_lower_confirmed_offset_stays() {
    assert_plan(&producer_behind(), vec![set_producer(Some(100), 130)], 130);
}

#[test]
fn a_confirmed_offset_above_the_producer_is_clamped_to_it() {
    assert_plan(&confirmed_ahead(), vec![set_confirmed(Some(150), 130)], 130);
}

#[test]
fn a_confirmed_offset_is_clamped_to_the_repaired_producer_offset_not_the_old_one() {
    assert_plan(
        &both_ahead(),
        vec![set_producer(Some(200), 130), set_confirmed(Some(180), 130)],
        130,
    );
}

#[test]
fn orphan_segments_are_removed_in_order_after_the_tail_is_zeroed() {
    let r = fixed_orphans();
    let p = plan(&r, true);
    assert_eq!(
        p,
        Plan {
            actions: vec![zero_tail(100, 30, 101, 1), remove(300, 4), remove(500, 0)],
            producer_offset: 130,
            ..Default::default()
        }
    );
    assert!(p.removes_records());
    let removed = p.actions[1].removed().expect("a removed segment");
    assert_eq!((removed.from, removed.to), (0, None));
    assert_eq!(removed.salvage_name, "00000000000000000300");
}

#[test]
fn stream_segments_off_the_chain_are_removed_and_the_producer_moves_back() {
    assert_plan(
        &stream_orphans(),
        vec![
            remove(2000, 3),
            remove(4096, 1),
            set_producer(Some(4200), 2500),
        ],
        2500,
    );
}

/// The action that records the gaps a repair leaves or steps over.
fn record_gaps(gaps: &[(u64, u64)]) -> Action {
    Action::RecordGaps {
        gaps: gaps.to_vec(),
    }
}

#[test]
fn a_consumer_past_the_data_end_takes_the_producer_with_it_and_leaves_a_gap() {
    // Policy 2: the producer resumes at the consumer's offset (the bytes from the data end up
    // to it stay zero); the consumer keeps its offset.
    assert_plan(
        &consumer_past_the_end(),
        vec![record_gaps(&[(130, 300)]), set_producer(Some(130), 300)],
        300,
    );
}

#[test]
fn a_consumer_in_a_removed_segment_keeps_its_offset_and_the_producer_resumes_there() {
    assert_plan(
        &consumer_in_an_orphan(),
        vec![
            zero_tail(100, 30, 101, 2),
            remove(300, 5),
            record_gaps(&[(130, 320)]),
            set_producer(Some(350), 320),
            set_confirmed(Some(340), 320),
        ],
        320,
    );
}

#[test]
fn a_consumer_inside_the_gap_the_repair_leaves_moves_to_its_far_side_and_reports_the_loss() {
    assert_plan(
        &consumer_in_the_new_gap(),
        vec![
            record_gaps(&[(130, 300)]),
            set_producer(Some(130), 300),
            set_consumer("audit", Some(200), 300, Some((200, 300))),
        ],
        300,
    );
}

#[test]
fn a_misaligned_consumer_past_the_data_end_is_snapped_down_and_the_producer_follows_it() {
    assert_plan(
        &misaligned_consumer_past_the_end(),
        vec![
            record_gaps(&[(130, 300)]),
            set_producer(Some(130), 300),
            set_consumer("consumer", Some(305), 300, None),
        ],
        300,
    );
}

#[test]
fn a_stream_consumer_past_the_data_end_takes_the_producer_to_its_exact_offset() {
    // Stream offsets have no stride: nothing to snap.
    let r = Store::stream()
        .segments(&[0])
        .data_end(300)
        .tail(0, 300, 4096, 0)
        .offsets(300, 300)
        .consumer("consumer", 333)
        .build();
    assert_plan(
        &r,
        vec![
            zero_tail(0, 300, 4096, 0),
            record_gaps(&[(300, 333)]),
            set_producer(Some(300), 333),
        ],
        333,
    );
}

#[test]
fn a_consumer_inside_an_earlier_repairs_gap_moves_to_its_far_side() {
    assert_plan(
        &consumer_in_an_earlier_gap(),
        vec![
            record_gaps(&[(130, 300)]),
            set_consumer("audit", Some(200), 300, Some((200, 300))),
        ],
        350,
    );
}

#[test]
fn a_consumer_in_a_deleted_segment_moves_to_the_earliest_record_and_reports_the_loss() {
    assert_plan(
        &consumer_in_a_deleted_segment(),
        vec![set_consumer("consumer", Some(50), 200, Some((50, 200)))],
        330,
    );
}

#[test]
fn a_misaligned_fixed_consumer_is_snapped_down_to_its_record_boundary() {
    assert_plan(
        &misaligned_fixed_consumer(),
        vec![set_consumer("consumer", Some(125), 120, None)],
        130,
    );
}

#[test]
fn a_misaligned_stream_consumer_is_snapped_down_to_the_boundary_the_scan_found() {
    assert_plan(
        &misaligned_stream_consumer(),
        vec![set_consumer("audit", Some(25), 20, None)],
        300,
    );
}

#[test]
fn a_fixed_consumer_outside_the_scan_is_snapped_down_by_the_stride() {
    // No boundary noted (the scan did not reach it): the stride gives it.
    let r = Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 130)
        .push_consumer("consumer", Some(47), Some(None))
        .build();
    assert_plan(&r, vec![set_consumer("consumer", Some(47), 40, None)], 130);
}

#[test]
fn unreadable_offset_files_are_rewritten_and_an_unreadable_consumer_restarts_at_the_earliest_record(
) {
    assert_plan(
        &unreadable_offset_files(),
        vec![
            set_producer(None, 230),
            set_confirmed(None, 0),
            set_consumer("audit", None, 100, None),
        ],
        230,
    );
}

#[test]
fn a_missing_producer_file_is_written_and_a_missing_confirmed_file_is_left_missing() {
    assert_plan(&missing_offset_files(), vec![set_producer(None, 130)], 130);
}

#[test]
fn offset_files_of_the_wrong_length_are_rewritten_even_when_their_value_stays() {
    assert_plan(
        &short_offset_files(),
        vec![
            set_producer(Some(130), 130),
            set_confirmed(Some(130), 130),
            set_consumer("audit", Some(110), 110, None),
        ],
        130,
    );
}

#[test]
fn a_short_confirmed_file_above_the_producer_is_rewritten_clamped() {
    let r = Store::fixed()
        .segments(&[0, 100])
        .data_end(130)
        .offsets(130, 170)
        .bad_file("producer.confirmed.offset")
        .build();
    assert_plan(&r, vec![set_confirmed(Some(170), 130)], 130);
}

#[test]
fn an_oversized_fixed_segment_is_trimmed_to_the_length_the_parameters_give() {
    let r = oversized_fixed_segment();
    let want = Params::fixed(9, 100).unwrap().file_len();
    assert_eq!(want, 101);
    let p = plan(&r, true);
    assert_eq!(
        p,
        Plan {
            actions: vec![trim(0, 4096, want)],
            producer_offset: 130,
            ..Default::default()
        }
    );
    // The bytes cut hold no records (past the span), but they are saved under their own name.
    assert!(!p.removes_records());
    let removed = p.actions[0].removed().expect("a trim removes bytes");
    assert_eq!((removed.from, removed.to), (101, None));
    assert_eq!(removed.salvage_name, "00000000000000000000.beyond-101");
}

#[test]
fn actions_come_in_apply_order_segments_first_then_producer_confirmed_and_consumers() {
    // Consumers moved in report order, then those whose file was unreadable (even when listed
    // first). The producer goes to the furthest consumer (250, past the data end 130); "late"
    // at 200 is inside the gap 130..250 and moves to its far side.
    assert_plan(
        &everything_at_once(),
        vec![
            trim(0, 111, 101),
            zero_tail(100, 30, 101, 1),
            remove(300, 3),
            remove(400, 0),
            record_gaps(&[(130, 250)]),
            set_producer(Some(500), 250),
            set_confirmed(Some(450), 250),
            set_consumer("audit", Some(125), 120, None),
            set_consumer("late", Some(200), 250, Some((200, 250))),
            set_consumer("first", None, 0, None),
        ],
        250,
    );
}

#[test]
fn the_producers_own_repair_leaves_consumer_files_alone_but_never_moves_behind_one() {
    // with_consumers == false: the producer still honours policy 2 (it reads the consumer
    // offsets), but plans no consumer change.
    let p = plan(&consumer_in_the_new_gap(), false);
    assert_eq!(
        p,
        Plan {
            actions: vec![record_gaps(&[(130, 300)]), set_producer(Some(130), 300)],
            producer_offset: 300,
            ..Default::default()
        }
    );
    let p = plan(&everything_at_once(), false);
    assert_eq!(
        p,
        Plan {
            actions: vec![
                trim(0, 111, 101),
                zero_tail(100, 30, 101, 1),
                remove(300, 3),
                remove(400, 0),
                record_gaps(&[(130, 250)]),
                set_producer(Some(500), 250),
                set_confirmed(Some(450), 250),
            ],
            producer_offset: 250,
            ..Default::default()
        }
    );
}

#[test]
fn without_a_scan_the_producer_offset_stands_in_for_the_data_end() {
    // A quick report (no data end): the producer offset is taken as it is, confirmed clamped.
    let r = Store::fixed()
        .segments(&[0, 100])
        .offsets(150, 200)
        .consumer("consumer", 120)
        .build();
    assert_eq!(r.data_end, None);
    assert_plan(&r, vec![set_confirmed(Some(200), 150)], 150);
    // And with no producer offset either, the earliest record does.
    let r = Store::fixed()
        .segments(&[200, 300])
        .producer(None)
        .confirmed(None)
        .build();
    assert_plan(&r, vec![set_producer(None, 200)], 200);
}

/// The report an inspection of the store gives after `p` was applied to the store `r`
/// describes: segments trimmed and removed, tails zeroed, offset files rewritten as 8 bytes,
/// and, when the producer now lies past the data end (policy 2), the zero gap up to it, which
/// the scan steps over (the data end is then the producer offset).
fn repaired(r: &Report, p: &Plan) -> Report {
    let mut after = r.clone();
    after.tail.clear();
    after.orphans.clear();
    after.oversized.clear();
    after.bad_offset_files.clear();
    after.issues.clear();
    for a in &p.actions {
        match a {
            Action::TrimSegment { path, to_len, .. } => {
                let s = after.segments.iter_mut().find(|s| &s.path == path).unwrap();
                s.len = *to_len;
            }
            Action::ZeroTail { .. } => {}
            Action::RecordGaps { gaps } => {
                after.recorded_gaps = gaps
                    .iter()
                    .map(|&(from, to)| crate::queue::format::gaps::Gap { from, to })
                    .collect();
            }
            Action::RemoveSegment { path, .. } => after.segments.retain(|s| &s.path != path),
            Action::SetProducer { to, .. } => after.producer_offset = Some(*to),
            Action::SetConfirmed { to, .. } => after.confirmed_offset = Some(*to),
            Action::SetConsumer { id, to, .. } => {
                let c = after.consumers.iter_mut().find(|c| &c.id == id).unwrap();
                c.offset = Some(*to);
            }
        }
    }
    let end = r.data_end.expect("a scanned report");
    if p.producer_offset > end {
        after.gaps.push((end, p.producer_offset));
        after.data_end = Some(p.producer_offset);
    }
    after.earliest = after.segments.first().map_or(0, |s| s.start);
    for c in &mut after.consumers {
        c.boundary = scanned_boundary(&after.gaps, after.data_end, c.offset);
    }
    after
}

#[test]
fn replanning_a_repaired_store_plans_nothing() {
    for (name, r) in scenarios() {
        let p = plan(&r, true);
        let again = plan(&repaired(&r, &p), true);
        assert_eq!(
            again,
            Plan {
                actions: vec![],
                producer_offset: p.producer_offset,
                ..Default::default()
            },
            "{name}: the plan {p:#?} is not idempotent"
        );
    }
}

#[test]
fn a_store_repaired_under_policy_2_is_left_as_it_is() {
    // Written out by hand: after consumer_in_the_new_gap() was repaired, the scan steps over
    // the zero gap 130..300 up to both consumers, where the data now ends.
    let r = Store::fixed()
        .segments(&[0, 100])
        .gap(130, 300)
        .data_end(300)
        .offsets(300, 130)
        .consumer("consumer", 300)
        .consumer("audit", 300)
        .build();
    // A repair before gaps were recorded left it unrecorded: recording it is all there is to do.
    assert_plan(&r, vec![record_gaps(&[(130, 300)])], 300);
    let mut recorded = r.clone();
    recorded.recorded_gaps = vec![crate::queue::format::gaps::Gap { from: 130, to: 300 }];
    assert_plan(&recorded, vec![], 300);
    // The same with records appended past the gap since.
    let r = Store::fixed()
        .segments(&[0, 100, 300])
        .gap(130, 300)
        .data_end(370)
        .offsets(370, 360)
        .consumer("consumer", 300)
        .consumer("audit", 300)
        .build();
    assert_plan(&r, vec![record_gaps(&[(130, 300)])], 370);
}

#[test]
fn every_scenario_that_needs_no_repair_is_planned_empty_and_the_others_are_not() {
    // Guards the scenarios themselves: only the two clean ones plan nothing.
    let empty: Vec<&str> = scenarios()
        .into_iter()
        .filter(|(_, r)| plan(r, true).is_empty())
        .map(|(name, _)| name)
        .collect();
    assert_eq!(empty, ["clean_fixed", "clean_stream"]);
}
