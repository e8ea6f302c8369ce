from tongxin.registry.views import duplicates, file, lists

app_name = "registry"
urlpatterns = [*lists.urlpatterns, *duplicates.urlpatterns, *file.urlpatterns]
