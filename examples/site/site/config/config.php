<?php
// Example configuration. Folio reads literal values from this file, like Kirby does.
// Basic auth over plain HTTP is enabled for local use only: do not deploy it like this.
return [
    'debug' => false,
    'api' => [
        'basicAuth'     => true,
        'allowInsecure' => true,
    ],
];
