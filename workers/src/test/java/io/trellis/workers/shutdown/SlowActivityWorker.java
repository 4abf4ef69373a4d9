package io.trellis.workers.shutdown;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import java.time.Duration;
import java.util.List;

/**
 * {@code trellis worker} (configured from the environment, stopped by SIGTERM like the real one) in which one
 * activity type takes longer: {@code TRELLIS_SLOW_ACTIVITY=<ActivityType>:<seconds>} holds that activity for the
 * given time before its real body runs, and says so on stdout, so a test can signal the worker mid-activity.
 */
public final class SlowActivityWorker {
    private SlowActivityWorker() {}

    public static void main(String[] args) throws Exception {
        // The test classpath's log4j2-test.properties quiets io.trellis; the test reads the drain's INFO lines.
        org.apache.logging.log4j.core.config.Configurator.setLevel("io.trellis", org.apache.logging.log4j.Level.INFO);
        String[] slow = System.getenv("TRELLIS_SLOW_ACTIVITY").split(":");
        String type = slow[0];
        Duration hold = Duration.ofSeconds(Long.parseLong(slow[1]));
        try (TrellisRuntime runtime = TrellisRuntime.open(TrellisConfig.fromEnvironment(), List.of(new WorkerInterceptorBase() {
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
                        if (!context.getInfo().getActivityType().equals(type)) {
                            return super.execute(input);
                        }
                        System.out.println("SLOW " + type + " started, attempt " + context.getInfo().getAttempt());
                        try {
                            Thread.sleep(hold.toMillis());
                        } catch (InterruptedException e) {
                            System.out.println("SLOW " + type + " interrupted");
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException("interrupted by the worker's shutdown", e);
                        }
                        ActivityOutput output = super.execute(input);
                        System.out.println("SLOW " + type + " finished");
                        return output;
                    }
                };
            }
        }))) {
            runtime.startWorkers();
            System.out.println("slow worker ready");
            runtime.awaitShutdown();
        }
        System.out.println("slow worker closed");
        System.exit(0); // as trellis worker does after a drain (Spark and Temporal leave non-daemon threads)
    }
}
