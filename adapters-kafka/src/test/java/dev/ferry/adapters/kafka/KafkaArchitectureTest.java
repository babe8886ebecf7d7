package dev.ferry.adapters.kafka;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

@AnalyzeClasses(packages = "dev.ferry.adapters.kafka", importOptions = ImportOption.DoNotIncludeTests.class)
class KafkaArchitectureTest {

    @ArchTest
    static final ArchRule dependsOnDomainKafkaClientsAndResilience4jOnly = classes()
            .that().resideInAPackage("dev.ferry.adapters.kafka..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dagger..", "jakarta.inject..", "dev.ferry.domain..",
                    "dev.ferry.adapters.kafka..", "org.apache.kafka.clients..", "org.apache.kafka.common..",
                    "io.github.resilience4j..", "org.slf4j..")
            .because("an adapter knows the domain plus one vendor client, never another adapter or the app (docs/adr/0004)");

    @ArchTest
    static final ArchRule noKafkaTypeInThePublicApi = classes().that().resideInAPackage("dev.ferry.adapters.kafka..")
            .and().arePublic().and().areTopLevelClasses()
            .and().areNotAnnotatedWith(dagger.internal.DaggerGenerated.class)
            .should().haveSimpleNameStartingWith("Kafka")
            .because("the adapter exposes KafkaSource and KafkaSink; the rest stays package-private");
}
