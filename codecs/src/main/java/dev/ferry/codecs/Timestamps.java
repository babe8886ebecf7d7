package dev.ferry.codecs;

import java.time.Instant;

/** A fast path for the one timestamp shape AWS sends ({@code 2005-01-31T23:59:59[.fff]Z}); null for any other. */
final class Timestamps {

    private Timestamps() {
    }

    static Instant parseUtc(String s) {
        int n = s.length();
        if (n > 40) {
            return null;
        }
        var b = new byte[n];
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c > 0x7F) {
                return null;
            }
            b[i] = (byte) c;
        }
        return parseUtc(b, 0, n);
    }

    /** The same, straight from the bytes {@code [from, to)} of a body (no String made). */
    static Instant parseUtc(byte[] s, int from, int to) {
        int n = to - from;
        if (n < 20 || s[from + 4] != '-' || s[from + 7] != '-' || s[from + 10] != 'T' || s[from + 13] != ':'
                || s[from + 16] != ':' || s[to - 1] != 'Z') {
            return null;
        }
        int year = two(s, from) * 100 + two(s, from + 2);
        int month = two(s, from + 5);
        int day = two(s, from + 8);
        int hour = two(s, from + 11);
        int minute = two(s, from + 14);
        int second = two(s, from + 17);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour < 0 || hour > 23
                || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return null;
        }
        int nanos = 0;
        if (n > 20) {
            int digits = n - 21;
            if (s[from + 19] != '.' || digits < 1 || digits > 9) {
                return null;
            }
            int fraction = digits(s, from + 20, digits);
            if (fraction < 0) {
                return null;
            }
            nanos = fraction;
            for (int i = digits; i < 9; i++) {
                nanos *= 10;
            }
        }
        long seconds = epochDay(year, month, day) * 86_400L + hour * 3_600L + minute * 60L + second;
        return Instant.ofEpochSecond(seconds, nanos);
    }

    /** Two digits as a number, or a large negative one when either is not a digit. */
    private static int two(byte[] s, int at) {
        int hi = s[at] - '0';
        int lo = s[at + 1] - '0';
        return (hi | lo | (9 - hi) | (9 - lo)) < 0 ? -10_000 : hi * 10 + lo;
    }

    private static int digits(byte[] s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            int c = s[i];
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static int daysIn(int year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** Days since 1970-01-01 (the civil-from-days algorithm, proleptic Gregorian). */
    private static long epochDay(int year, int month, int day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }
}
