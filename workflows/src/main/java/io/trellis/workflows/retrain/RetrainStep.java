package io.trellis.workflows.retrain;

/** The steps of a retrain, in order, as operators see them in the progress query. */
public enum RetrainStep {
    START_RUN("start run"),
    SNAPSHOT_AND_VALIDATE("snapshot + validate"),
    BUILD_FEATURES("build features"),
    TRAIN("train"),
    EVALUATE("evaluate"),
    CHECK_GATES("check gates"),
    REGISTER("register version"),
    MARK_CANDIDATE("mark dev candidate"),
    DONE("done");

    private final String label;

    RetrainStep(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** 1-based position among the working steps (DONE counts as the last). */
    public int number() {
        return ordinal() + 1;
    }

    public static int total() {
        return values().length - 1;
    }
}
