package io.trellis.workflows.schedule;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Locale;

/**
 * A five-field cron expression ({@code minute hour day-of-month month day-of-week}) evaluated in a time zone,
 * with the semantics of Vixie cron and Temporal's cron strings: {@code *}, lists {@code 1,15}, ranges {@code 1-5},
 * steps {@code *}{@code /15} and {@code 10-50/20}, month and day names ({@code JAN}, {@code MON}), day-of-week 0 or 7
 * for Sunday; when both day fields are restricted a day matching either fires. Pure and deterministic, so workflow
 * code may use it. Across daylight-saving changes: a local time that does not exist (spring forward) fires at the
 * same instant one hour later; a local time that exists twice (fall back) fires once, at the first.
 */
public final class CronExpression {
    private static final String[] MONTHS = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    private static final String[] DAYS = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
    /** Longer than any gap between two matches of a valid expression (Feb 29 on a given weekday: 28 years). */
    private static final long SEARCH_LIMIT_DAYS = 366L * 29;

    private final String text;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean domRestricted;
    private final boolean dowRestricted;

    private CronExpression(String text, BitSet minutes, BitSet hours, BitSet daysOfMonth, BitSet months, BitSet daysOfWeek,
                           boolean domRestricted, boolean dowRestricted) {
        this.text = text;
        this.minutes = minutes;
        this.hours = hours;
        this.daysOfMonth = daysOfMonth;
        this.months = months;
        this.daysOfWeek = daysOfWeek;
        this.domRestricted = domRestricted;
        this.dowRestricted = dowRestricted;
    }

    /** Parses {@code text}; a malformed expression fails with INVALID_REQUEST naming the field and what is wrong. */
    public static CronExpression parse(String text) {
        if (text == null || text.isBlank()) {
            throw invalid(text, "it is empty; write five fields such as '0 2 * * *' (02:00 every day)");
        }
        String[] f = text.trim().split("\\s+");
        if (f.length != 5) {
            throw invalid(text, "it has " + f.length + " field" + (f.length == 1 ? "" : "s") + "; write five: minute hour day-of-month month"
                    + " day-of-week, such as '0 2 * * *'");
        }
        BitSet dow = field(text, f[4], "day-of-week", 0, 7, DAYS);
        if (dow.get(7)) {
            dow.set(0);
            dow.clear(7);
        }
        return new CronExpression(text.trim(), field(text, f[0], "minute", 0, 59, null), field(text, f[1], "hour", 0, 23, null),
                field(text, f[2], "day-of-month", 1, 31, null), field(text, f[3], "month", 1, 12, MONTHS), dow,
                !f[2].equals("*"), !f[4].equals("*"));
    }

    /** Checks that {@code zone} is a time-zone ID such as {@code Europe/Berlin} or {@code UTC}. */
    public static ZoneId zone(String zone) {
        try {
            return ZoneId.of(zone);
        } catch (DateTimeException | NullPointerException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Unknown time zone '" + zone
                    + "'; use an IANA zone ID such as UTC, Europe/Berlin or America/New_York.");
        }
    }

    public String text() {
        return text;
    }

    /** The first firing time strictly after {@code after}, in {@code zone}. */
    public Instant next(Instant after, ZoneId zone) {
        LocalDateTime t = LocalDateTime.ofInstant(after, zone).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        LocalDateTime limit = t.plusDays(SEARCH_LIMIT_DAYS);
        while (t.isBefore(limit)) {
            if (!months.get(t.getMonthValue())) {
                t = t.withDayOfMonth(1).toLocalDate().plusMonths(1).atStartOfDay();
                continue;
            }
            if (!dayMatches(t)) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
                continue;
            }
            if (!hours.get(t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
                continue;
            }
            if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
                continue;
            }
            ZonedDateTime z = t.atZone(zone); // a gap moves forward by its length; an overlap takes the earlier offset
            Instant candidate = z.toInstant();
            if (candidate.isAfter(after)) {
                return candidate;
            }
            t = t.plusMinutes(1);
        }
        throw invalid(text, "it never fires (for example February 30)");
    }

    private boolean dayMatches(LocalDateTime t) {
        boolean dom = daysOfMonth.get(t.getDayOfMonth());
        boolean dow = daysOfWeek.get(t.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : t.getDayOfWeek().getValue());
        if (domRestricted && dowRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    private static BitSet field(String text, String field, String name, int min, int max, String[] names) {
        BitSet bits = new BitSet(max + 1);
        for (String part : field.split(",", -1)) {
            String range = part;
            int step = 1;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                range = part.substring(0, slash);
                step = number(text, part.substring(slash + 1), name, 1, max, null);
            }
            int from;
            int to;
            if (range.equals("*")) {
                from = min;
                to = max;
            } else if (range.contains("-")) {
                String[] ends = range.split("-", -1);
                if (ends.length != 2) {
                    throw invalid(text, "the " + name + " field has a malformed range '" + part + "'");
                }
                from = number(text, ends[0], name, min, max, names);
                to = number(text, ends[1], name, min, max, names);
                if (from > to) {
                    throw invalid(text, "the " + name + " range '" + part + "' runs backwards");
                }
            } else {
                from = number(text, range, name, min, max, names);
                to = slash >= 0 ? max : from;
            }
            for (int v = from; v <= to; v += step) {
                bits.set(v);
            }
        }
        return bits;
    }

    private static int number(String text, String value, String name, int min, int max, String[] names) {
        if (names != null) {
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(value.toUpperCase(Locale.ROOT))) {
                    return names == MONTHS ? i + 1 : i;
                }
            }
        }
        try {
            int n = Integer.parseInt(value);
            if (n < min || n > max) {
                throw invalid(text, "the " + name + " field has " + n + ", outside " + min + "-" + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw invalid(text, "the " + name + " field has '" + value + "', which is not a number"
                    + (names == null ? "" : " or a name (" + String.join(", ", names) + ")"));
        }
    }

    private static TrellisException invalid(String text, String problem) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, "Invalid cron expression '" + text + "': " + problem + ".");
    }

    @Override
    public String toString() {
        return text;
    }
}
