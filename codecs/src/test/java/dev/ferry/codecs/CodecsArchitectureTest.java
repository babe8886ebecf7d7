package dev.ferry.codecs;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

@AnalyzeClasses(packages = "dev.ferry.codecs", importOptions = ImportOption.DoNotIncludeTests.class)
class CodecsArchitectureTest {

    @ArchTest
    static final ArchRule codecsDependOnlyOnTheDomainAndJacksonCore = classes()
            .that().resideInAPackage("dev.ferry.codecs..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.ferry.domain..", "dev.ferry.codecs..",
                    "com.fasterxml.jackson.core..")
            .because("codecs stream with jackson-core only: no databind tree on the hot path, no transport");

    @ArchTest
    static final ArchRule onlyTheFactoryAndLimitsArePublic = classes()
            .that().resideInAPackage("dev.ferry.codecs").and().arePublic()
            .should().haveSimpleNameEndingWith("Codecs").orShould().haveSimpleName("JsonLimits")
            .because("the public surface is the factory and its config; decoders stay package-private");
}
