package dev.ferry.adapters.sqs;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.methods;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Set;

@AnalyzeClasses(packages = "dev.ferry.adapters.sqs", importOptions = ImportOption.DoNotIncludeTests.class)
class SqsArchitectureTest {

    private static final Set<String> PUBLIC_TYPES = Set.of("SqsSource", "SqsSink", "SqsQueues", "SqsClients", "SqsModule",
            "SqsSourceConfig", "SqsSinkConfig");

    @ArchTest
    static final ArchRule dependsOnDomainAndTheSqsSdkOnly = classes().that().resideInAPackage("dev.ferry.adapters.sqs..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dagger..", "jakarta.inject..", "dev.ferry.domain..", "dev.ferry.adapters.sqs..",
                    "software.amazon.awssdk..", "org.slf4j..")
            .because("an adapter knows the domain plus one vendor SDK, never another adapter or the app (docs/adr/0004)");

    @ArchTest
    static final ArchRule smallPublicSurface = classes().that().resideInAPackage("dev.ferry.adapters.sqs..")
            .and().areTopLevelClasses().and().arePublic()
            .and().areNotAnnotatedWith(dagger.internal.DaggerGenerated.class)
            .should(new com.tngtech.archunit.lang.ArchCondition<>("be one of " + PUBLIC_TYPES) {
                @Override
                public void check(JavaClass item, com.tngtech.archunit.lang.ConditionEvents events) {
                    if (!PUBLIC_TYPES.contains(item.getSimpleName())) {
                        events.add(com.tngtech.archunit.lang.SimpleConditionEvent.violated(item,
                                item.getName() + " is public but not part of the adapter's API"));
                    }
                }
            })
            .because("implementations stay package-private; the adapter exposes its entry points only");

    @ArchTest
    static final ArchRule noAwsTypeCrossesAPort = methods().that().areDeclaredInClassesThat()
            .implement(dev.ferry.domain.transport.Source.class)
            .or().areDeclaredInClassesThat().implement(dev.ferry.domain.transport.Sink.class)
            .and().arePublic()
            .should().haveRawReturnType(com.tngtech.archunit.base.DescribedPredicate.describe("a non-AWS type",
                    (JavaClass c) -> !c.getPackageName().startsWith("software.amazon")))
            .because("vendor types stop at the border");
}
