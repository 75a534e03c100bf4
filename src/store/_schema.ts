import type { ColumnType } from "kysely";

type Binary = Uint8Array;

// Times are ms since the epoch; hours and days are the start of the hour or day in ms.
/** The tables of the fleet database, as the typed query layer sees them. */
export interface Database {
	tokens: { id: string; name: string; scope: string; hash: string; created: number };
	buckets: {
		id: string;
		version: number;
		title: string;
		reason: string;
		frames: string;
		why: string;
		diagnosis_id: string | null;
		diagnosis_confidence: string | null;
		diagnosis_rank: number;
		findings: string;
	};
	/** Per bucket and kind: the first and last report and how many. */
	bucket_kinds: {
		bucket: string;
		kind: string;
		first_seen: number;
		last_seen: number;
		count: number;
	};
	crashes: {
		id: string;
		kind: string;
		time: number;
		received: number;
		host: string;
		service: string;
		version: string;
		bucket: string;
		signature_version: number;
		message: string | null;
		diagnosis_id: string | null;
		diagnosis_confidence: string | null;
		findings: string;
		raw: ColumnType<Binary | null, Binary | null, null>;
		raw_size: number;
		search: string;
		idempotency_key: string | null;
	};
	crash_attributes: {
		crash_id: string;
		name: string;
		value: string;
		kind: string;
		time: number;
		bucket: string;
		host: string;
	};
	bucket_hours: { bucket: string; kind: string; hour: number; service: string; count: number };
	bucket_attr_hours: {
		bucket: string;
		kind: string;
		hour: number;
		name: string;
		value: string;
		count: number;
	};
	bucket_host_days: {
		bucket: string;
		kind: string;
		day: number;
		service: string;
		host: string;
		count: number;
	};
	bucket_hosts: {
		bucket: string;
		kind: string;
		host: string;
		first_seen: number;
		last_seen: number;
		count: number;
	};
	bucket_host_hours: {
		bucket: string;
		kind: string;
		hour: number;
		service: string;
		host: string;
		count: number;
	};
	bucket_versions: {
		bucket: string;
		kind: string;
		service: string;
		version: string;
		first_seen: number;
		last_seen: number;
		count: number;
	};
	service_versions: { service: string; version: string; first_seen: number; host_hours: number };
	host_hours: { hour: number; host: string; service: string; version: string };
	host_hour_attrs: { hour: number; host: string; name: string; value: string };
	fleet_hours: { hour: number; service: string; hosts: number };
	fleet_attr_hours: { hour: number; service: string; name: string; value: string; hosts: number };
	/** One row (id 1) once retention has run: host-hours before `before` are deleted. */
	host_hours_expired: { id: number; before: number };
	alert_rules: {
		id: string;
		name: string;
		service: string | null;
		event: string;
		threshold: number | null;
		min_count: number;
		url: string;
		format: string;
		created: number;
	};
	alerts: {
		id: string;
		rule: string;
		key: string;
		event: string;
		service: string | null;
		bucket: string;
		created: number;
		details: string;
		state: string;
		attempts: number;
		next_attempt: number;
		lease_owner: string | null;
		lease_until: number | null;
		last_status: number | null;
		last_error: string | null;
		sent_at: number | null;
	};
	/** Per kind, hour and service, over every bucket. */
	crash_hours: { kind: string; hour: number; service: string; count: number };
	bucket_days: { bucket: string; kind: string; day: number; service: string; count: number };
	/** Per kind, hour and attribute value, over every bucket. */
	attr_hours: { kind: string; hour: number; name: string; value: string; count: number };
	attr_days: { kind: string; day: number; name: string; value: string; count: number };
	bucket_attr_days: {
		bucket: string;
		kind: string;
		day: number;
		name: string;
		value: string;
		count: number;
	};
	fleet_attr_days: { day: number; service: string; name: string; value: string; hosts: number };
	stream_tails: {
		key: string;
		origin: string;
		held: string;
		opened: number | null;
		last: number;
		batches: string;
		updated: number;
		version: number;
	};
}
