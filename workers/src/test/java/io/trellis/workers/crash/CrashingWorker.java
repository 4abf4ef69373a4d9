package io.trellis.workers.crash;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * {@code trellis worker} with one planted crash: a worker process (configured from the environment, like the
 * real one) that SIGKILLs itself at a chosen moment of a chosen activity, once. {@code TRELLIS_CRASH_AT} is
 * {@code <ActivityType>:after} (the activity's body finished, its side effects committed, and the result was
 * never reported: the worst moment for exactly-once) or {@code <ActivityType>:mid-job} (a Spark activity,
 * killed when the first task of its Spark work ends: Delta writes and model fitting are under way). Without
 * {@code TRELLIS_CRASH_AT} it is a plain worker.
 */
public final class CrashingWorker {
    private CrashingWorker() {}

    public static void main(String[] args) throws Exception {
        CrashPoint crash = CrashPoint.parse(System.getenv("TRELLIS_CRASH_AT"));
        TrellisConfig config = TrellisConfig.fromEnvironment();
        AtomicBoolean armed = new AtomicBoolean();
        try (TrellisRuntime runtime = TrellisRuntime.open(config, List.of(new Interceptor(crash, armed)))) {
            if (crash != null && crash.midJob()) {
                runtime.spark().sparkContext().addSparkListener(new SparkListener() {
                    @Override
                    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
                        if (armed.get()) {
                            die(crash);
                        }
                    }
                });
            }
            runtime.startWorkers();
            System.out.println("crashing worker ready; crash at " + (crash == null ? "(none)" : crash));
            runtime.awaitShutdown();
        }
        System.exit(0); // as trellis worker does after SIGTERM and the drain (non-daemon threads would linger)
    }

    /** SIGKILL, sent to this very process: no shutdown hook, no finally block, no flush. */
    static void die(CrashPoint crash) {
        System.out.println("CRASH " + crash + ": sending SIGKILL to pid " + ProcessHandle.current().pid());
        System.out.flush();
        try {
            new ProcessBuilder("kill", "-KILL", Long.toString(ProcessHandle.current().pid())).inheritIO().start().waitFor();
            Thread.sleep(60_000); // the signal lands within milliseconds; never carry on
        } catch (IOException e) {
            Runtime.getRuntime().halt(137);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Runtime.getRuntime().halt(137);
        }
        Runtime.getRuntime().halt(137);
    }

    /** Where to crash: an activity type and a moment in it. */
    record CrashPoint(String activityType, String moment) {
        static CrashPoint parse(String value) {
            if (value == null || value.isBlank()) {
                return null;
            }
            String[] parts = value.trim().split(":");
            if (parts.length != 2 || !(parts[1].equals("after") || parts[1].equals("mid-job"))) {
                throw new IllegalArgumentException("TRELLIS_CRASH_AT must be <ActivityType>:after or <ActivityType>:mid-job, got " + value);
            }
            return new CrashPoint(parts[0], parts[1]);
        }

        boolean midJob() {
            return moment.equals("mid-job");
        }

        @Override
        public String toString() {
            return activityType + ":" + moment;
        }
    }

    private static final class Interceptor extends WorkerInterceptorBase {
        private final CrashPoint crash;
        private final AtomicBoolean armed;

        Interceptor(CrashPoint crash, AtomicBoolean armed) {
            this.crash = crash;
            this.armed = armed;
        }

        @Override
        public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
            return new ActivityInboundCallsInterceptorBase(next) {
                private ActivityExecutionContext context;

                @Override
                public void init(ActivityExecutionContext context) {
                    this.context = context;
                    super.init(context);
                }

                @Override
                public ActivityOutput execute(ActivityInput input) {
                    boolean target = crash != null && context.getInfo().getActivityType().equals(crash.activityType());
                    if (target && crash.midJob()) {
                        System.out.println("arming the crash in " + crash + ", attempt " + context.getInfo().getAttempt());
                        armed.set(true);
                    }
                    ActivityOutput output = super.execute(input);
                    if (target) {
                        die(crash); // after: the body's effects are committed, the result is never reported
                    }
                    return output;
                }
            };
        }
    }
}
