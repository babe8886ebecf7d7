package dev.ferry.codecs;

import dev.ferry.codecs.JsonSupport.Failure;
import java.util.Arrays;

/**
 * What a fast path reads a multi-entry document into (MTurk {@code Events[]}, S3 {@code Records[]}):
 * one {@code int[]} with {@code stride} ints per entry — its attribute spans, then its bounds in the
 * body — and the entries read so far. A format's read state extends it. Also the most entries one
 * message may hold, on both paths.
 */
abstract class EntrySlots {

    /**
     * The most entries (S3 {@code Records}, MTurk {@code Events}) one message may hold. AWS sends one record per S3
     * message and a few events per MTurk document; a megabyte of minimal entries was 15,000 to 35,000 events — as many
     * keys (each with the document's id) and ledger writes, for one message that holds its group all the while.
     */
    static final int MAX_ENTRIES = 1_000;

    /** A message of more than {@link #MAX_ENTRIES} entries is malformed (see there). */
    static void notTooMany(int count, String field, String noun) throws Failure {
        if (count > MAX_ENTRIES) {
            throw new Failure(field + ": " + count + " " + noun + "s in one message, more than " + MAX_ENTRIES
                    + " (AWS sends one record per S3 message, a few events per MTurk document)");
        }
    }

    final Scan scan;
    final int stride;
    int[] slots;
    int count;
    /** Where the entry being read starts in {@link #slots}. */
    int base;

    EntrySlots(Scan scan, int stride) {
        this.scan = scan;
        this.stride = stride;
    }

    /**
     * The array of entries at {@code p}, each read by {@code entry}; the position after it, or BAIL
     * (also when it is empty, or a second one). {@code bytesPerEntry} guesses the slots' first size.
     */
    static <S extends EntrySlots> int entries(S state, byte[] b, int p, int bytesPerEntry, Members.Reader<S> entry) {
        if (state.slots != null) {
            return Scan.BAIL;
        }
        state.slots = new int[state.stride * Math.max(1, Math.min(MAX_ENTRIES, b.length / bytesPerEntry))]; // grown as needed
        int end = Members.array(b, p, entry, state);
        return state.count == 0 ? Scan.BAIL : end;
    }

    /** Starts entry {@code index} at {@code p}: its spans from {@code from} absent, its start noted. Its base. */
    int begin(int index, int p, int from) {
        if (stride * (index + 1) > slots.length) {
            slots = Arrays.copyOf(slots, slots.length * 2);
        }
        base = stride * index;
        Arrays.fill(slots, base + from, base + stride - 2, -1);
        slots[base + stride - 2] = p;
        return base;
    }

    /** Ends entry {@code index}, read to {@code end} (after its '}'); {@code end}. */
    int end(int index, int end) {
        slots[base + stride - 1] = end;
        count = index + 1;
        return end;
    }
}
