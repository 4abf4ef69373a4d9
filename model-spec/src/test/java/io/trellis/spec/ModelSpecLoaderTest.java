package io.trellis.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSpecLoaderTest {

    private static final String MINIMAL = """
            name: m1
            source: {table: raw/t}
            label: y
            features: {numeric: [a, b], categorical: [c]}
            algorithm: {type: gradient_boosted_trees, hyperparameters: {maxDepth: 3}}
            """;

    @Test
    void sampleSpecLoads() {
        ModelSpec spec = SampleModels.customerChurn();
        assertThat(spec.name()).isEqualTo("customer-churn");
        assertThat(spec.features().all()).hasSize(20);
        assertThat(spec.algorithm().type()).isEqualTo(AlgorithmType.LOGISTIC_REGRESSION);
        assertThat(spec.gates().minimums()).containsEntry(Metric.AUC, 0.70);
        assertThat(spec.maxNullRate("satisfaction_score")).isEqualTo(0.10);
        assertThat(spec.maxNullRate("age")).isEqualTo(0.0);
        assertThat(spec.quality().ranges().get("age")).isEqualTo(new ModelSpec.Range(18.0, 110.0));
        assertThat(spec.referencedColumns()).startsWith("customer_id", "churned").contains("event_date");
        assertThat(spec.promotion().approvalRequiredIn()).containsExactly("production");
        assertThat(spec.promotion().approvalTimeoutSeconds()).isEqualTo(7 * 86400);
        assertThat(spec.promotion().shadowIn()).containsExactly("staging");
        assertThat(spec.promotion().stageGates().get("production").minimums()).containsEntry(Metric.AUC, 0.75);
        assertThat(spec.promotion().stageGates()).doesNotContainKey("staging");
        assertThat(spec.scoring()).isEqualTo(new ModelSpec.Scoring("event_date", 3));
    }

    @Test
    void promotionDefaultsFollowTheEnvironments() {
        ModelSpec spec = ModelSpecLoader.parse(MINIMAL + "environments: [dev, qa, staging, prod]\n");
        assertThat(spec.promotion().approvalRequiredIn()).containsExactly("prod");
        assertThat(spec.promotion().shadowIn()).containsExactly("qa", "staging");
        assertThat(spec.promotion().approvalTimeoutSeconds()).isEqualTo(7 * 86400);
        assertThat(spec.scoring().timeColumn()).isNull();
    }

    @Test
    void resourcesAreOptionalAndGiveEachStepItsOverridesOverTheDefaults() {
        assertThat(ModelSpecLoader.parse(MINIMAL).resources()).isNull();
        ModelSpec.Resources r = ModelSpecLoader.parse(MINIMAL + """
                resources:
                  executorMemory: 2g
                  executorCores: 2
                  executorInstances: 3
                  driverMemory: 1G
                  steps:
                    train: {executorMemory: 4096m, executorCores: 4}
                    evaluate: {driverMemory: 768m}
                """).resources();
        assertThat(r.forStep("train")).isEqualTo(new ModelSpec.Resources("4096m", 4, 3, "1g", null));
        assertThat(r.forStep("evaluate")).isEqualTo(new ModelSpec.Resources("2g", 2, 3, "768m", null));
        assertThat(r.forStep("validate")).isEqualTo(new ModelSpec.Resources("2g", 2, 3, "1g", null));
        ModelSpec.Resources onlyStep = ModelSpecLoader.parse(MINIMAL + "resources: {steps: {features: {executorInstances: 1}}}\n").resources();
        assertThat(onlyStep.forStep("features")).isEqualTo(new ModelSpec.Resources(null, null, 1, null, null));
        assertThat(onlyStep.forStep("train")).isEqualTo(new ModelSpec.Resources(null, null, null, null, null));
    }

    @Test
    void badResourcesAreRefusedWithTheFieldAndTheFix() {
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {executorMemory: 2gigs}\n"))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("resources.executorMemory: the string '2gigs' is not a memory size; write a whole number and a"
                        + " unit (k, m, g or t), e.g. 512m or 2g");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {driverMemory: 1024}\n"))
                .hasMessageContaining("resources.driverMemory: number 1024 is not a memory size");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {executorCores: 0}\n"))
                .hasMessageContaining("resources.executorCores: must be a whole number of at least 1, got number 0");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {executorCores: -2}\n"))
                .hasMessageContaining("resources.executorCores: must be a whole number of at least 1, got number -2");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {executorInstances: 1.5}\n"))
                .hasMessageContaining("resources.executorInstances: must be a whole number of at least 1, got number 1.5");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {steps: {trian: {executorMemory: 4g}}}\n"))
                .hasMessageContaining("resources.steps.trian: unknown step; the retrain's Spark steps are validate, features, train, evaluate");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {steps: {train: {executorCores: 0, memory: 4g}}}\n"))
                .hasMessageContaining("resources.steps.train.executorCores: must be a whole number of at least 1, got number 0")
                .hasMessageContaining("resources.steps.train.memory: unknown field");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {steps: {train: 4g}}\n"))
                .hasMessageContaining("resources.steps.train: must be a mapping, got the string '4g'");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "resources: {executorMemroy: 4g}\n"))
                .hasMessageContaining("resources.executorMemroy: unknown field");
    }

    @Test
    void theSpecRecordTravelsAsJsonWithAndWithoutResources() throws Exception {
        // As Temporal carries it: a history written before the resources section existed has no such field.
        var json = new com.fasterxml.jackson.databind.ObjectMapper()
                .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        ModelSpec withResources = ModelSpecLoader.parse(MINIMAL + "resources: {executorMemory: 2g, steps: {train: {executorCores: 2}}}\n");
        assertThat(json.readValue(json.writeValueAsString(withResources), ModelSpec.class)).isEqualTo(withResources);

        ModelSpec plain = ModelSpecLoader.parse(MINIMAL);
        var old = (com.fasterxml.jackson.databind.node.ObjectNode) json.valueToTree(plain);
        old.remove("resources");
        assertThat(old.has("budget")).isTrue();
        assertThat(json.treeToValue(old, ModelSpec.class)).isEqualTo(plain);
    }

    @Test
    void budgetsAreOptionalAndValidated() {
        assertThat(ModelSpecLoader.parse(MINIMAL).budget()).isNull();
        assertThat(ModelSpecLoader.parse(MINIMAL + "budget: {perRun: 2.5, perMonth: 40, hardLimitPerRun: 5}\n").budget())
                .isEqualTo(new ModelSpec.Budget(2.5, 40.0, ModelSpec.BudgetPolicy.APPROVAL, 5.0));
        assertThat(ModelSpecLoader.parse(MINIMAL + "budget: {perMonth: 10, onExceed: fail}\n").budget())
                .isEqualTo(new ModelSpec.Budget(null, 10.0, ModelSpec.BudgetPolicy.FAIL, null));
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "budget: {perRun: 0, perMonth: cheap, onExceed: shrug, hardLimit: 3}\n"))
                .hasMessageContaining("budget.perRun: must be an amount greater than 0, got number 0")
                .hasMessageContaining("budget.perMonth: must be an amount greater than 0, got the string 'cheap'")
                .hasMessageContaining("budget.onExceed: 'shrug' is not a policy; write approval (wait for an approver) or fail")
                .hasMessageContaining("budget.hardLimit: unknown field");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "budget: {perRun: 20, perMonth: 10, hardLimitPerRun: 5}\n"))
                .hasMessageContaining("budget.perRun: 20 is more than budget.perMonth 10")
                .hasMessageContaining("budget.hardLimitPerRun: 5 is below budget.perRun 20");
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "budget: {onExceed: fail}\n"))
                .hasMessageContaining("budget: declare perRun, perMonth or hardLimitPerRun");
    }

    @Test
    void promotionAndScoringProblemsAreNamed() {
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL
                + "promotion: {approvalRequiredIn: [dev, prod], approvalTimeout: soon, stageGates: {dev: {}, staging: {minimums: {auc: x}}}}\n"
                + "scoring: {windowDays: 3}\n"))
                .hasMessageContaining("promotion.stageGates.dev: not an environment a version is promoted to")
                .hasMessageContaining("promotion.stageGates.staging.minimums.auc: must be a number")
                .hasMessageContaining("promotion.approvalRequiredIn[0]: 'dev' is the first environment")
                .hasMessageContaining("promotion.approvalRequiredIn[1]: 'prod' is not one of the environments [dev, staging, production]")
                .hasMessageContaining("promotion.approvalTimeout: 'soon' is not a duration")
                .hasMessageContaining("scoring.windowDays: needs scoring.timeColumn");
        assertThat(ModelSpecLoader.parse(MINIMAL + "promotion: {approvalTimeout: 48h}\n").promotion().approvalTimeoutSeconds())
                .isEqualTo(48 * 3600);
    }

    @Test
    void monitoringDefaultsAndSample() {
        assertThat(ModelSpecLoader.parse(MINIMAL).monitoring())
                .isEqualTo(new ModelSpec.Monitoring("production", 0.1, 0.2, 1, 0.2, 0.05, 86400, null));
        assertThat(SampleModels.customerChurn().monitoring())
                .isEqualTo(new ModelSpec.Monitoring("production", 0.1, 0.2, 1, 0.2, 0.05, 86400, "0 6 * * *"));
        assertThat(ModelSpecLoader.parse(MINIMAL + "monitoring: {environment: staging, minSignificantFeatures: 3, retrainCooldown: 6h}\n")
                .monitoring()).extracting(ModelSpec.Monitoring::environment, ModelSpec.Monitoring::minSignificantFeatures,
                        ModelSpec.Monitoring::retrainCooldownSeconds)
                .containsExactly("staging", 3, 6 * 3600L);
    }

    @Test
    void monitoringProblemsAreNamed() {
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL + "monitoring: {environment: prod, psiModerate: 0.3,"
                + " minSignificantFeatures: 0, aucDropMargin: 2, retrainCooldown: often, schedule: sometimes, psiBins: 5}\n"))
                .hasMessageContaining("monitoring.environment: 'prod' is not one of the environments")
                .hasMessageContaining("monitoring.psiModerate: 0.3 must not exceed psiSignificant 0.2")
                .hasMessageContaining("monitoring.minSignificantFeatures: must be a whole number of at least 1")
                .hasMessageContaining("monitoring.aucDropMargin: must be between 0 and 1")
                .hasMessageContaining("monitoring.retrainCooldown: 'often' is not a duration")
                .hasMessageContaining("monitoring.schedule: 'sometimes' is not a cron expression")
                .hasMessageContaining("monitoring.psiBins: unknown field");
    }

    @Test
    void defaultsApply() {
        ModelSpec spec = ModelSpecLoader.parse(MINIMAL);
        assertThat(spec.split()).isEqualTo(new ModelSpec.Split(0.2, 42));
        assertThat(spec.evaluation().metric()).isEqualTo(Metric.AUC);
        assertThat(spec.environments()).containsExactly("dev", "staging", "production");
        assertThat(spec.algorithm().param("maxDepth")).isEqualTo(3.0);
        assertThat(spec.algorithm().param("maxIter")).isEqualTo(20.0);
        assertThat(spec.quality().minRows()).isEqualTo(1);
    }

    @Test
    void everyProblemIsListedWithItsPath() {
        String bad = """
                name: Bad Name
                source: {table: raw/t, extra: 1}
                label: y
                features: {numeric: [a, y, a], categorical: ["not a column"]}
                algorithm: {type: logistic_regression, hyperparameters: {maxIter: 2.5, regParam: -1, depth: 3}}
                evaluation: {metric: rmse}
                gates: {minimums: {auc: high}}
                quality: {minRows: 0, ranges: {a: {min: 5, max: 1}}}
                environments: [staging, production]
                """;
        assertThatThrownBy(() -> ModelSpecLoader.parse(bad))
                .isInstanceOf(TrellisException.class)
                .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.INVALID_MODEL_SPEC))
                .hasMessageContaining("name: 'Bad Name' must be")
                .hasMessageContaining("source.extra: unknown field; known fields here: table, keyColumn")
                .hasMessageContaining("features: the label column 'y' cannot also be a feature")
                .hasMessageContaining("features: column 'a' is listed more than once")
                .hasMessageContaining("features.categorical[0]: must be a column name")
                .hasMessageContaining("algorithm.hyperparameters.maxIter: must be a whole number, got 2.5")
                .hasMessageContaining("algorithm.hyperparameters.regParam: -1 is out of range [0, 1000000]")
                .hasMessageContaining("algorithm.hyperparameters.depth: unknown hyperparameter for logistic_regression")
                .hasMessageContaining("evaluation.metric: unknown metric 'rmse'")
                .hasMessageContaining("gates.minimums.auc: must be a number, got the string 'high'")
                .hasMessageContaining("quality.minRows: must be a whole number of at least 1")
                .hasMessageContaining("quality.ranges.a: min 5 is greater than max 1")
                .hasMessageContaining("environments: the first environment must be 'dev'");
    }

    @Test
    void unknownAlgorithmNamesTheSupportedOnes() {
        assertThatThrownBy(() -> ModelSpecLoader.parse(MINIMAL.replace("gradient_boosted_trees", "xgboost")))
                .hasMessageContaining("algorithm.type: unknown algorithm 'xgboost'; supported: logistic_regression, gradient_boosted_trees");
    }

    @Test
    void missingRequiredFieldsAreNamed() {
        assertThatThrownBy(() -> ModelSpecLoader.parse("name: x\n"))
                .hasMessageContaining("source: is required")
                .hasMessageContaining("label: is required")
                .hasMessageContaining("features: is required")
                .hasMessageContaining("algorithm: is required");
    }

    @Test
    void brokenYamlSaysWhere() {
        assertThatThrownBy(() -> ModelSpecLoader.parse("name: [unclosed\n"))
                .hasMessageContaining("is not valid YAML")
                .hasMessageContaining("line");
    }

    @Test
    void shaIsStable() {
        assertThat(ModelSpecLoader.sha256("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
