#!/usr/bin/env python3
"""Writes the malformed-input corpus under src/test/resources/malformed/.

Each case is a body, the decoder that must refuse it, and a fragment its Malformed reason must
contain. Run from codecs/: python3 src/test/corpus/make_malformed.py
"""
import json, os, shutil

here = os.path.dirname(os.path.abspath(__file__))
samples = os.path.join(here, "..", "resources", "samples")
out = os.path.join(here, "..", "resources", "malformed")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)

def sample(name):
    return open(os.path.join(samples, name), "rb").read()

cases = []
def case(decoder, name, body, fragment):
    if isinstance(body, str):
        body = body.encode("utf-8")
    cases.append((decoder, name, body, fragment))

S3 = sample("s3-one.json")
S3REF = sample("s3-reference.json")
MT = sample("mturk-one.json")
MT10 = sample("mturk-ten.json")
SNS = sample("sns-s3.json")
SUB = sample("sns-subscription.json")

def s3_with(obj=None, rec=None, root=None):
    d = json.loads(S3)
    if obj: d["Records"][0]["s3"]["object"].update(obj)
    if rec: d["Records"][0].update(rec)
    if root: d.update(root)
    return json.dumps(d)

def mt_with(ev=None, root=None, drop_ev=(), drop_root=()):
    d = json.loads(MT)
    if ev: d["Events"][0].update(ev)
    if root: d.update(root)
    for k in drop_ev: d["Events"][0].pop(k, None)
    for k in drop_root: d.pop(k, None)
    return json.dumps(d)

deep = lambda n: "[" * n + "]" * n
# ---- shared shapes, each against several decoders
for dec, good in (("s3", S3), ("mturk", MT), ("sns", SNS), ("json", b'{"id":"a","type":"t"}')):
    for i, cut in enumerate((1, 2, len(good) // 3, len(good) // 2, len(good) - 2, len(good) - 1)):
        case(dec, f"truncated-{i}", good[:cut], "invalid JSON at offset")
    case(dec, "empty", b"", "empty body")
    case(dec, "bom", b"\xef\xbb\xbf" + good, "byte order mark")
    case(dec, "invalid-utf8-ff", good[:20] + b"\xff" + good[20:], "invalid UTF-8 at offset 20")
    case(dec, "invalid-utf8-overlong", good[:15] + b"\xc0\xaf" + good[15:], "invalid UTF-8 at offset 15")
    case(dec, "invalid-utf8-surrogate", good[:10] + b"\xed\xa0\x80" + good[10:], "invalid UTF-8 at offset 10")
    case(dec, "invalid-utf8-cut", good[:-1] + b"\xe2\x82", "invalid UTF-8 at offset")
    case(dec, "deep-10000", good[:-1] + b',"deep":' + deep(10000).encode() + b"}", "limit exceeded")
    case(dec, "huge-2mib", good[:-1] + b',"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}', "larger than the limit")
    case(dec, "long-number", good[:-1] + b',"n":' + b"9" * 100 + b"}", "limit exceeded")
    case(dec, "trailing-garbage", good + b"xyz", "invalid JSON at offset")
    case(dec, "trailing-document", good + b" {}", "trailing content after the JSON document")
    case(dec, "duplicate-key", good[:-1] + b',"' + json.loads(good).__iter__().__next__().encode() + b'":1}', "Duplicate field")
    case(dec, "nul-byte", b"\x00" + good, "invalid JSON at offset 0")
    case(dec, "single-quotes", good.replace(b'"', b"'"), "invalid JSON")
    case(dec, "comment", b"/* hi */" + good, "invalid JSON")

for dec in ("s3", "mturk", "json"):
    case(dec, "root-array", "[]", "found an array")
    case(dec, "root-null", "null", "found null")
    case(dec, "root-number", "42", "found a number")
    case(dec, "root-string", '"hello"', "found a string")
    case(dec, "whitespace", "   \n ", "found the end of the body")
    case(dec, "nan", '{"x": NaN}', "invalid JSON")

# ---- a 300 KiB string where the decoder reads it (a skipped one costs nothing and is allowed)
big = "y" * (300 * 1024)
case("s3", "long-string", s3_with(obj={"key": big}), "limit exceeded")
case("mturk", "long-string", mt_with(root={"EventDocId": big}), "limit exceeded")
case("sns", "long-string", json.dumps(dict(json.loads(SNS), Message=big)), "limit exceeded")
case("json", "long-string", json.dumps({"id": big}), "limit exceeded")

# ---- S3
case("s3", "records-object", '{"Records":{}}', "Records: expected an array of records")
case("s3", "records-null", '{"Records":null}', "Records: expected an array of records")
case("s3", "records-empty", '{"Records":[]}', "Records: empty")
case("s3", "record-number", '{"Records":[1]}', "Records[0]: expected a record object")
case("s3", "record-empty", '{"Records":[{}]}', "Records[0].s3.object.key: missing")
case("s3", "second-record-bad", '{"Records":[' + json.dumps(json.loads(S3)["Records"][0]) + ',{"s3":{"object":{"size":1}}}]}', "Records[1].s3.object.key: missing")
case("s3", "key-number", s3_with(obj={"key": 5}), "Records[0].s3.object.key: expected a string")
case("s3", "key-empty", s3_with(obj={"key": ""}), "Records[0].s3.object.key: expected a non-empty string")
case("s3", "key-bad-escape", s3_with(obj={"key": "a%zzb"}), "Records[0].s3.object.key: not a URL-encoded key")
case("s3", "size-string", s3_with(obj={"size": "12"}), "Records[0].s3.object.size: expected a whole number")
case("s3", "size-negative", s3_with(obj={"size": -1}), "Records[0].s3.object.size: expected a number >= 0")
case("s3", "size-float", s3_with(obj={"size": 1.5}), "Records[0].s3.object.size: expected a whole number")
case("s3", "size-huge", s3_with(obj={"size": 10**30}), "Records[0].s3.object.size: number 1000000000000000000000000000000 is out of range")
case("s3", "etag-object", s3_with(obj={"eTag": {}}), "Records[0].s3.object.eTag: expected a string")
case("s3", "sequencer-array", s3_with(obj={"sequencer": []}), "Records[0].s3.object.sequencer: expected a string")
case("s3", "event-time-bad", s3_with(rec={"eventTime": "yesterday"}), "Records[0].eventTime: expected an ISO-8601")
case("s3", "event-name-number", s3_with(rec={"eventName": 7}), "Records[0].eventName: expected a string")
case("s3", "s3-string", s3_with(rec={"s3": "x"}), "Records[0].s3: expected an object")
case("s3", "object-array", '{"Records":[{"s3":{"object":[]}}]}', "Records[0].s3.object: expected an object")
case("s3", "bucket-name-number", '{"Records":[{"s3":{"bucket":{"name":3},"object":{"key":"k"}}}]}', "Records[0].s3.bucket.name: expected a string")
case("s3", "not-s3", '{"foo":1}', "not an S3 event notification")
case("s3", "other-event", '{"Service":"Amazon S3","Event":"s3:Other"}', 'found Event "s3:Other"')
case("s3", "test-event-bad-time", '{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"noon"}', "Time: expected an ISO-8601")
case("s3", "leading-garbage", b"x" + S3REF, "invalid JSON at offset 0")
case("s3", "control-char", S3REF.replace(b"abcd1234-1234", b"abcd\n1234", 1), "invalid JSON")

# ---- MTurk
case("mturk", "no-doc-id", mt_with(drop_root=("EventDocId",)), "EventDocId: missing")
case("mturk", "doc-id-number", mt_with(root={"EventDocId": 12}), "EventDocId: expected a string")
case("mturk", "doc-id-empty", mt_with(root={"EventDocId": ""}), "EventDocId: expected a non-empty string")
case("mturk", "no-events", mt_with(drop_root=("Events",)), "Events: missing")
case("mturk", "events-empty", mt_with(root={"Events": []}), "Events: empty")
case("mturk", "events-object", mt_with(root={"Events": {}}), "Events: expected an array of events")
case("mturk", "event-number", mt_with(root={"Events": [1]}), "Events[0]: expected an event object")
case("mturk", "event-empty", mt_with(root={"Events": [{}]}), "Events[0].EventType: missing")
case("mturk", "type-number", mt_with(ev={"EventType": 3}), "Events[0].EventType: expected a string")
case("mturk", "no-timestamp", mt_with(drop_ev=("EventTimestamp",)), "Events[0].EventTimestamp: missing")
case("mturk", "timestamp-bad", mt_with(ev={"EventTimestamp": "yesterday"}), "Events[0].EventTimestamp: expected an ISO-8601")
case("mturk", "timestamp-no-zone", mt_with(ev={"EventTimestamp": "2005-01-31T23:59:59"}), "Events[0].EventTimestamp: expected an ISO-8601")
case("mturk", "timestamp-number", mt_with(ev={"EventTimestamp": 1700000000}), "Events[0].EventTimestamp: expected a string")
case("mturk", "no-hit", mt_with(drop_ev=("HITId",)), "Events[0].HITId: missing")
case("mturk", "hit-number", mt_with(ev={"HITId": 1}), "Events[0].HITId: expected a string")
case("mturk", "assignment-array", mt_with(ev={"AssignmentId": []}), "Events[0].AssignmentId: expected a string")
case("mturk", "customer-object", mt_with(root={"CustomerId": {}}), "CustomerId: expected a string")
d = json.loads(MT10); d["Events"][7].pop("EventType")
case("mturk", "eighth-event-bad", json.dumps(d), "Events[7].EventType: missing")
d = json.loads(MT10); d["Events"][3]["EventTimestamp"] = "2026-13-40T99:00:00Z"
case("mturk", "fourth-event-time", json.dumps(d), "Events[3].EventTimestamp: expected an ISO-8601")

# ---- SNS (inner: sniffing)
def sns_with(**kw):
    d = json.loads(SNS); d.update(kw)
    for k, v in list(d.items()):
        if v is None: d.pop(k)
    return json.dumps(d)
case("sns", "no-message", sns_with(Message=None), "Message: missing in an SNS Notification")
case("sns", "message-object", sns_with(Message={}), "Message: expected a string")
case("sns", "unknown-type", sns_with(Type="Gossip"), 'Type: unknown SNS message type "Gossip"')
case("sns", "inner-not-json", sns_with(Message='{"Records": [ oops'), "SNS Message from arn:aws:sns:us-east-1:123456789012:archive-events: invalid JSON")
case("sns", "inner-empty-records", sns_with(Message='{"Records": []}'), "SNS Message from arn:aws:sns:us-east-1:123456789012:archive-events: Records: empty")
case("sns", "inner-mturk-bad", sns_with(Message=mt_with(drop_root=("EventDocId",))), "SNS Message from arn:aws:sns:us-east-1:123456789012:archive-events: EventDocId: missing")
case("sns", "attributes-array", sns_with(MessageAttributes=[]), "MessageAttributes: expected an object")
case("sns", "attribute-string", sns_with(MessageAttributes={"env": "prod"}), "MessageAttributes.env: expected an object with Type and Value")
case("sns", "attribute-value-number", sns_with(MessageAttributes={"env": {"Type": "String", "Value": 3}}), "MessageAttributes.env.Value: expected a string")
case("sns", "topic-number", sns_with(TopicArn=5), "TopicArn: expected a string")
d = json.loads(SUB); d["Timestamp"] = "later"
case("sns", "subscription-bad-time", json.dumps(d), "Timestamp: expected an ISO-8601")

# ---- generic JSON, pointers /id /type /group /time
case("json", "no-id", '{"type":"t"}', "/id: missing")
case("json", "id-null", '{"id":null}', "/id: missing")
case("json", "id-empty", '{"id":""}', "/id: missing")
case("json", "time-bad", '{"id":"a","time":"soon"}', "/time: expected an ISO-8601")
case("json", "time-huge", '{"id":"a","time":"99999999999999999999999"}', "/time: epoch milliseconds out of range")
case("json", "id-nested-wrong-place", '{"x":{"id":"a"}}', "/id: missing")

with open(os.path.join(out, "manifest.tsv"), "w") as m:
    m.write("# file\tdecoder\treason must contain\n")
    for n, (dec, name, body, frag) in enumerate(cases):
        fname = f"{n:03d}-{dec}-{name}.bin"
        with open(os.path.join(out, fname), "wb") as f:
            f.write(body)
        m.write(f"{fname}\t{dec}\t{frag}\n")
print(len(cases), "cases")
