package io.trellis.workflows.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spec.TrellisException;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CronExpressionTest {
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0 2 * * *      | UTC           | 2026-11-26T01:00:00Z | 2026-11-26T02:00:00Z",
            "0 2 * * *      | UTC           | 2026-11-26T02:00:00Z | 2026-11-27T02:00:00Z",
            "0 2 * * *      | Europe/Berlin | 2026-11-26T00:00:00Z | 2026-11-26T01:00:00Z",
            "*/15 * * * *   | UTC           | 2026-11-26T10:07:30Z | 2026-11-26T10:15:00Z",
            "30 9 * * MON-FRI | UTC         | 2026-11-27T10:00:00Z | 2026-11-30T09:30:00Z",
            "0 0 1 JAN *    | UTC           | 2026-06-01T00:00:00Z | 2027-01-01T00:00:00Z",
            "0 12 13 * 5    | UTC           | 2026-11-26T00:00:00Z | 2026-11-27T12:00:00Z",
            "0 0 29 2 *     | UTC           | 2026-03-01T00:00:00Z | 2028-02-29T00:00:00Z",
            "0 3 * * 7      | UTC           | 2026-11-26T00:00:00Z | 2026-11-29T03:00:00Z",
            // Spring forward in Berlin (2026-03-29 02:00 -> 03:00): 02:30 does not exist and fires at 03:30 CEST.
            "30 2 * * *     | Europe/Berlin | 2026-03-29T00:00:00Z | 2026-03-29T01:30:00Z",
            // Fall back (2026-10-25 03:00 -> 02:00): 02:30 happens twice and fires once, at the first (CEST).
            "30 2 * * *     | Europe/Berlin | 2026-10-25T00:00:00Z | 2026-10-25T00:30:00Z",
            "30 2 * * *     | Europe/Berlin | 2026-10-25T00:30:00Z | 2026-10-26T01:30:00Z"})
    void nextFiringTime(String cron, String zone, String after, String expected) {
        assertThat(CronExpression.parse(cron).next(Instant.parse(after), ZoneId.of(zone))).isEqualTo(Instant.parse(expected));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''               | it is empty",
            "0 2 * *          | it has 4 fields",
            "61 * * * *       | the minute field has 61, outside 0-59",
            "0 24 * * *       | the hour field has 24, outside 0-23",
            "0 0 0 * *        | the day-of-month field has 0, outside 1-31",
            "0 0 * 13 *       | the month field has 13, outside 1-12",
            "0 0 * * 8        | the day-of-week field has 8, outside 0-7",
            "x 0 * * *        | the minute field has 'x', which is not a number",
            "0 0 * FOO *      | 'FOO', which is not a number or a name",
            "0 5-1 * * *      | the hour range '5-1' runs backwards",
            "*/0 * * * *      | the minute field has 0, outside 1-59",
            "0 0 30 2 *       | it never fires"})
    void invalidExpressionsAreRefusedPrecisely(String cron, String message) {
        assertThatThrownBy(() -> CronExpression.parse(cron).next(Instant.parse("2026-01-01T00:00:00Z"), BERLIN))
                .isInstanceOf(TrellisException.class).hasMessageContaining(message);
    }

    @Test
    void unknownTimeZonesAreRefused() {
        assertThatThrownBy(() -> CronExpression.zone("Mars/Olympus")).hasMessageContaining("Unknown time zone 'Mars/Olympus'");
        assertThat(CronExpression.zone("Europe/Berlin")).isEqualTo(BERLIN);
    }
}
