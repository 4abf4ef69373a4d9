package io.trellis.spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The model spec shipped with Trellis for the sample churn data set. */
public final class SampleModels {
    public static final String CUSTOMER_CHURN = "customer-churn";
    public static final String CUSTOMER_CHURN_TABLE = "raw/customer_churn";
    private static final String RESOURCE = "/samples/customer-churn.yaml";

    private SampleModels() {}

    /** The YAML text of the sample spec, exactly as shipped. */
    public static String customerChurnYaml() {
        try (InputStream in = SampleModels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("sample spec " + RESOURCE + " missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ModelSpec customerChurn() {
        return ModelSpecLoader.parse(customerChurnYaml(), "classpath:" + RESOURCE);
    }
}
