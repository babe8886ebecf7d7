/**
 * How an adapter plugs into the app: providers read their own section of the configuration file
 * into a {@link dev.ferry.domain.spi.Plan}, which the app opens when it runs. Built-in adapters
 * contribute providers through their Dagger modules, other jars through
 * {@link dev.ferry.domain.spi.FerryPlugin} and {@link java.util.ServiceLoader}.
 */
package dev.ferry.domain.spi;
