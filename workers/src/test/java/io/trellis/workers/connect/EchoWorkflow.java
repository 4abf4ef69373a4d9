package io.trellis.workers.connect;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;

/** A one-activity workflow for the connection tests: its input and result travel as payloads through Temporal. */
@WorkflowInterface
public interface EchoWorkflow {
    String TASK_QUEUE = "trellis-connect-probe";

    @WorkflowMethod
    String echo(String secret);

    @ActivityInterface
    interface Activities {
        String decorate(String secret);
    }

    final class Impl implements EchoWorkflow {
        private final Activities activities = Workflow.newActivityStub(Activities.class,
                ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(30)).build());

        @Override
        public String echo(String secret) {
            return activities.decorate(secret);
        }
    }

    final class ActivitiesImpl implements Activities {
        @Override
        public String decorate(String secret) {
            return "seen:" + secret;
        }
    }
}
