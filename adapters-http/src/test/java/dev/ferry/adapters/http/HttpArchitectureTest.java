package dev.ferry.adapters.http;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

@AnalyzeClasses(packages = "dev.ferry.adapters.http", importOptions = ImportOption.DoNotIncludeTests.class)
class HttpArchitectureTest {

    @ArchTest
    static final ArchRule dependsOnDomainJdkJacksonAndResilience4jOnly = classes()
            .that().resideInAPackage("dev.ferry.adapters.http..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dagger..", "jakarta.inject..", "javax.crypto..", "javax.net.ssl..", "com.sun.net.httpserver..",
                    "dev.ferry.domain..", "dev.ferry.adapters.http..", "com.fasterxml.jackson.core..",
                    "io.github.resilience4j..", "org.slf4j..")
            .because("an adapter knows the domain plus its own libraries, never another adapter or the app (docs/adr/0004)");

    @ArchTest
    static final ArchRule smallPublicSurface = classes().that().resideInAPackage("dev.ferry.adapters.http..")
            .and().areTopLevelClasses().and().arePublic()
            .and().areNotAnnotatedWith(dagger.internal.DaggerGenerated.class)
            .should().haveSimpleNameStartingWith("Http").orShould().haveSimpleName("IngestAuth")
            .because("implementations stay package-private; the adapter exposes HttpSink, HttpSource and IngestAuth");
}
